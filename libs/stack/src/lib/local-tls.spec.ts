import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { issueHostCert } from '@vita/sites';
import { caVerdict, ensureLocalTls, leafVerdict, type CertFacts } from './local-tls';

const DAY = 86_400_000;
const fingerprint = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

/** A TLS handshake with a server on `host` serving `pair`, verified against `ca` for `servername` (or the address); resolves with what the server sent. */
async function handshake(pair: { cert: string; key: string }, ca: string, host: string, servername?: string): Promise<string> {
  const server = createServer({ cert: readFileSync(pair.cert), key: readFileSync(pair.key) }, (s) => s.end('hello'));
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  try {
    return await new Promise<string>((done, fail) => {
      const socket = connect({ host, port, ca: readFileSync(ca), servername, timeout: 10_000 }, () => socket.once('data', (d) => done(String(d))));
      socket.once('error', fail);
      socket.once('timeout', () => fail(new Error('handshake timed out')));
    });
  } finally {
    server.close();
  }
}

describe('the local stack’s CA and certificate', () => {
  const facts = (change: Partial<CertFacts> = {}): CertFacts => ({
    notBefore: new Date(0),
    notAfter: new Date(400 * DAY),
    issuedByCa: true,
    keyMatches: true,
    covers: { dns: ['localhost'], ips: ['127.0.0.1', '::1'] },
    ...change,
  });

  it('decides when the CA is made again: missing, its key gone, within 30 days of its end', () => {
    expect(caVerdict(undefined, 0)).toBe('there was none');
    expect(caVerdict(facts({ keyMatches: false }), 0)).toMatch(/key is missing/);
    expect(caVerdict(facts(), 0)).toBeNull();
    expect(caVerdict(facts(), 369 * DAY)).toBeNull();
    expect(caVerdict(facts(), 371 * DAY)).toBe('it expires in 29 days');
    expect(caVerdict(facts(), 402 * DAY)).toBe('it expired 2 days ago');
  });

  it('decides when the certificate is issued again: missing, another CA, another key, a name missing, not yet or nearly no longer valid', () => {
    expect(leafVerdict(undefined, 0)).toBe('there was none');
    expect(leafVerdict(facts(), 100 * DAY)).toBeNull();
    expect(leafVerdict(facts({ issuedByCa: false }), 0)).toBe('it was not issued by the current CA');
    expect(leafVerdict(facts({ keyMatches: false }), 0)).toMatch(/key is missing/);
    expect(leafVerdict(facts({ covers: { dns: [], ips: ['127.0.0.1'] } }), 0)).toBe('it does not name localhost, ::1');
    expect(leafVerdict(facts({ notBefore: new Date(2 * DAY) }), DAY)).toMatch(/not valid yet/);
    expect(leafVerdict(facts(), 371 * DAY)).toBe('it expires in 29 days');
    expect(leafVerdict(facts(), 401 * DAY)).toBe('it expired 1 days ago');
  });

  describe('on disk', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'vita-local-tls-')), 'ca');
    afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

    it('the first start makes the CA (key mode 600) and a certificate that verifies for localhost, 127.0.0.1 and ::1', async () => {
      const tls = await ensureLocalTls(dir);
      expect(tls).toMatchObject({ caCert: join(dir, 'ca.crt'), cert: join(dir, 'localhost.crt'), key: join(dir, 'localhost.key'), caMade: 'there was none', leafIssued: 'there was none' });
      expect(statSync(join(dir, 'ca.key')).mode & 0o777).toBe(0o600);
      expect(statSync(tls.key).mode & 0o777).toBe(0o600);
      expect(new X509Certificate(readFileSync(tls.caCert)).subject).toBe('CN=Vita local CA');
      expect(execFileSync('openssl', ['verify', '-CAfile', tls.caCert, tls.cert], { encoding: 'utf8' })).toBe(`${tls.cert}: OK\n`);
      expect(await handshake(tls, tls.caCert, '127.0.0.1')).toBe('hello');
      expect(await handshake(tls, tls.caCert, '127.0.0.1', 'localhost')).toBe('hello');
      const v6 = await handshake(tls, tls.caCert, '::1').catch((err: NodeJS.ErrnoException) => err.code);
      expect(['hello', 'EADDRNOTAVAIL', 'EAFNOSUPPORT']).toContain(v6);
      expect(tls.notAfter.getTime() - Date.now()).toBeGreaterThan(390 * DAY);
    });

    it('a later start keeps both as they are', async () => {
      const before = [fingerprint(join(dir, 'ca.crt')), fingerprint(join(dir, 'localhost.crt'))];
      const again = await ensureLocalTls(dir);
      expect(again).toMatchObject({ caMade: null, leafIssued: null });
      expect([fingerprint(again.caCert), fingerprint(again.cert)]).toEqual(before);
    });

    it('issues the certificate again when it nears its end or its key is gone, keeping the CA', async () => {
      const ca = fingerprint(join(dir, 'ca.crt'));
      const first = fingerprint(join(dir, 'localhost.crt'));
      const late = await ensureLocalTls(dir, Date.now() + 380 * DAY);
      expect(late).toMatchObject({ caMade: null, leafIssued: expect.stringMatching(/^it expires in \d+ days$/) });
      expect(fingerprint(late.cert)).not.toBe(first);
      const second = fingerprint(late.cert);
      unlinkSync(late.key);
      const keyless = await ensureLocalTls(dir);
      expect(keyless).toMatchObject({ caMade: null, leafIssued: expect.stringMatching(/key is missing/) });
      expect(fingerprint(keyless.cert)).not.toBe(second);
      expect(fingerprint(keyless.caCert)).toBe(ca);
      expect(await handshake(keyless, keyless.caCert, '127.0.0.1', 'localhost')).toBe('hello');
    });

    it('the CA vouches for loopback names only: a certificate it signs for another site fails verification', async () => {
      const other = await issueHostCert({ dir, name: 'elsewhere', dns: ['example.org'], ips: ['127.0.0.1'] });
      await expect(handshake({ cert: other.crt, key: other.key }, join(dir, 'ca.crt'), '127.0.0.1')).rejects.toThrow('permitted subtree violation');
    });

    it('a CA whose key is gone is made again, and the certificate with it', async () => {
      const before = fingerprint(join(dir, 'ca.crt'));
      unlinkSync(join(dir, 'ca.key'));
      const renewed = await ensureLocalTls(dir);
      expect(renewed).toMatchObject({ caMade: expect.stringMatching(/key is missing/), leafIssued: 'it was not issued by the current CA' });
      expect(fingerprint(renewed.caCert)).not.toBe(before);
      expect(await handshake(renewed, renewed.caCert, '127.0.0.1')).toBe('hello');
    });
  });
});
