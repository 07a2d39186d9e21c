import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caPin, formatJoinToken, matchesPin, newJoinSecret, parseJoinToken } from './join-token';

describe('join tokens', () => {
  let dir: string;
  let ca: string;
  let other: string;
  const makeCa = (name: string) => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`), '-subj', `/CN=${name}`, '-days', '2'], { stdio: 'ignore' });
    return readFileSync(join(dir, `${name}.crt`), 'utf8');
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vita-token-'));
    ca = makeCa('ca');
    other = makeCa('other');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('pins the CA by the SHA-256 of its DER encoding, as openssl computes it', () => {
    const der = execFileSync('openssl', ['x509', '-in', join(dir, 'ca.crt'), '-outform', 'DER']);
    const sha = execFileSync('openssl', ['dgst', '-sha256', '-hex'], { input: der }).toString().trim().split(/\s+/).pop();
    expect(caPin(ca)).toBe(sha);
  });

  it('round-trips, and the pin matches only its own CA', () => {
    const secret = newJoinSecret();
    const token = formatJoinToken(ca, secret);
    expect(token).toMatch(/^vita-join\.[0-9a-f]{64}\./);
    const parsed = parseJoinToken(`  ${token}\n`);
    expect(parsed.secret).toBe(secret);
    expect(matchesPin(ca, parsed.pin)).toBe(true);
    expect(matchesPin(other, parsed.pin)).toBe(false);
    expect(matchesPin('not a certificate', parsed.pin)).toBe(false);
  });

  it('refuses a malformed token without repeating it', () => {
    const secret = newJoinSecret();
    for (const bad of [`vita-join.${'0'.repeat(63)}.${secret}`, `vita-join.${caPin(ca)}.short`, secret, `${formatJoinToken(ca, secret)} extra`]) {
      let message = '';
      try {
        parseJoinToken(bad);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(/^the join token must look like vita-join\./);
      expect(message).not.toContain(secret);
    }
  });
});
