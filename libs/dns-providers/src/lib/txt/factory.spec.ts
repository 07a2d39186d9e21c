import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BindServer } from '@vita/bind';
import { Route53Standin, startRoute53Standin } from '../../test/route53-standin';
import { Rfc2136TxtRecords } from '../rfc2136/txt';
import { Route53TxtRecords } from '../route53/txt';
import { parseServer, TxtRecordsSettings, txtRecordsFrom } from './factory';

const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I=';
const KEY_FILE_TEXT = `key "vita-update" {\n\talgorithm hmac-sha256;\n\tsecret "${SECRET}";\n};\n`;
const rfc2136: TxtRecordsSettings = { kind: 'rfc2136', server: '127.0.0.1:53', zone: 'vita.test', keyFile: '/etc/vita/tsig.key', timeoutMs: 3000 };
const route53: TxtRecordsSettings = { kind: 'route53', hostedZoneId: 'Z0123456789ABCDEFGHIJ', timeoutMs: 3000 };
const readKey = () => KEY_FILE_TEXT;

/** The Error txtRecordsFrom throws for `settings` (checked to be one line without the secret). */
function refusal(settings: unknown, readFile: (p: string) => string = readKey): string {
  try {
    txtRecordsFrom(settings as TxtRecordsSettings, { readFile }).close();
  } catch (e) {
    const message = (e as Error).message;
    expect(message).not.toContain('\n');
    expect(message).not.toContain(SECRET);
    return message;
  }
  throw new Error('expected the settings to be refused');
}

describe('txtRecordsFrom (settings checks)', () => {
  it('builds the implementation the kind names', () => {
    const a = txtRecordsFrom(rfc2136, { readFile: readKey });
    const b = txtRecordsFrom(route53);
    expect(a).toBeInstanceOf(Rfc2136TxtRecords);
    expect(b).toBeInstanceOf(Route53TxtRecords);
    expect([a.id, b.id]).toEqual(['rfc2136', 'route53']);
    a.close();
    b.close();
  });

  it.each([
    [null, /^TXT records settings must be an object$/],
    [{ ...rfc2136, kind: 'powerdns' }, /^kind must be 'rfc2136' or 'route53' \(got 'powerdns'\)$/],
    [{ server: '127.0.0.1:53' }, /^kind must be 'rfc2136' or 'route53' \(got nothing\)$/],
    [{ ...rfc2136, sever: 'x' }, /^rfc2136\.sever is not a setting \(rfc2136 takes server, zone, keyFile, keyName, timeoutMs\)$/],
    [{ ...rfc2136, server: undefined }, /^rfc2136\.server is required$/],
    [{ ...rfc2136, server: '127.0.0.1' }, /^rfc2136\.server must be host:port, e\.g\. 192\.0\.2\.53:53/],
    [{ ...rfc2136, server: '127.0.0.1:0' }, /^rfc2136\.server must be host:port: port 0 is not 1\.\.65535/],
    [{ ...rfc2136, server: '[192.0.2.53]:53' }, /^rfc2136\.server must be host:port: the part in brackets is not an IPv6 address/],
    [{ ...rfc2136, server: 'bad_host!:53' }, /^rfc2136\.server must be host:port: the host is neither/],
    [{ ...rfc2136, zone: '' }, /^rfc2136\.zone must be a non-empty string/],
    [{ ...rfc2136, zone: 'a..b' }, /^rfc2136\.zone is not a DNS name/],
    [{ ...rfc2136, keyFile: 7 }, /^rfc2136\.keyFile must be a non-empty string \(got 7\)$/],
    [{ ...rfc2136, timeoutMs: 0 }, /^rfc2136\.timeoutMs must be a positive number of ms \(got 0\)$/],
    [{ ...rfc2136, timeoutMs: '3000' }, /^rfc2136\.timeoutMs must be a positive number of ms \(got '3000'\)$/],
    [{ ...rfc2136, keyName: 'other' }, /^rfc2136\.keyFile is not a usable key file: \/etc\/vita\/tsig\.key:1: no key named "other"/],
    [{ ...route53, hostedZoneId: undefined }, /^route53\.hostedZoneId is required$/],
    [{ ...route53, hostedZoneId: 'not a zone' }, /^route53\.hostedZoneId must be a hosted zone id/],
    [{ ...route53, region: 'mars' }, /^route53\.region must be an AWS region/],
    [{ ...route53, endpoint: 'ftp://x' }, /^route53\.endpoint must be an http\(s\) URL/],
    [{ ...route53, timeoutMs: -1 }, /^route53\.timeoutMs must be a positive number of ms/],
    [{ ...route53, credentials: 'AKID:secret' }, /^route53\.credentials must be an object/],
    [{ ...route53, credentials: { accessKeyId: 'AKIDSTANDIN000000001', secretAccessKey: '' } }, /^route53\.credentials\.secretAccessKey is required$/],
    [{ ...route53, zone: 'example.com' }, /^route53\.zone is not a setting/],
  ])('refuses %o with one line naming the field', (settings, message) => {
    expect(refusal(settings)).toMatch(message);
  });

  it('a key file that cannot be read or parsed names the field and the file, never the secret', () => {
    expect(
      refusal(rfc2136, () => {
        throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      }),
    ).toBe('rfc2136.keyFile cannot be read: /etc/vita/tsig.key: ENOENT');
    expect(refusal(rfc2136, () => `key "k" { algorithm hmac-md5; secret "${SECRET}"; };`)).toBe(
      'rfc2136.keyFile is not a usable key file: /etc/vita/tsig.key:1: key "k" uses hmac-md5; only hmac-sha256 is supported',
    );
    expect(refusal(rfc2136, () => `key "k" { algorithm hmac-sha256; secret "${SECRET}" };`)).toMatch(/^rfc2136\.keyFile is not a usable key file: \/etc\/vita\/tsig\.key:1: expected ";"/);
  });

  it('parseServer reads IPv4, IPv6 in brackets and host names', () => {
    expect(parseServer('192.0.2.53:53')).toEqual({ host: '192.0.2.53', port: 53 });
    expect(parseServer('[2001:db8::53]:5353')).toEqual({ host: '2001:db8::53', port: 5353 });
    expect(parseServer('ns1.example.com:53')).toEqual({ host: 'ns1.example.com', port: 53 });
    expect(parseServer('2001:db8::53:53')).toMatch(/must be host:port/);
  });
});

describe('txtRecordsFrom end to end', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'vita-txt-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('rfc2136 against a real BIND, with its key file: set, query with dig, remove', async () => {
    const bind = await BindServer.start({ zone: 'vita.test' });
    const records = txtRecordsFrom({ kind: 'rfc2136', server: `${bind.address}:${bind.port}`, zone: 'vita.test', keyFile: bind.keyFile, timeoutMs: 3000 });
    const dig = () =>
      execFileSync('dig', ['+tcp', '+norecurse', '+short', '-p', String(bind.port), `@${bind.address}`, '_acme-challenge.vita.test', 'TXT'], { encoding: 'utf8', timeout: 15_000 }).trim();
    try {
      await records.add('_acme-challenge.vita.test', 'digest-value', 60);
      expect(dig()).toBe('"digest-value"');
      await records.remove('_acme-challenge.vita.test', 'digest-value');
      expect(dig()).toBe('');
    } finally {
      records.close();
      await bind.stop();
    }
  });

  it('rfc2136 with a key file holding the wrong secret: the update fails in one line that names the key, not the secret', async () => {
    const bind = await BindServer.start({ zone: 'vita.test' });
    const wrongFile = join(work, 'wrong.key');
    writeFileSync(wrongFile, KEY_FILE_TEXT, { mode: 0o600 });
    const records = txtRecordsFrom({ kind: 'rfc2136', server: `${bind.address}:${bind.port}`, zone: 'vita.test', keyFile: wrongFile, timeoutMs: 3000 });
    try {
      const e = await records.add('_acme-challenge.vita.test', 'digest-value', 60).then(
        () => undefined,
        (err: Error) => err,
      );
      expect(e?.message).toBe(`rfc2136 ${bind.address}:${bind.port}: add _acme-challenge.vita.test TXT failed: NOTAUTH, TSIG BADSIG (the server refused key "vita-update")`);
      expect(e?.message).not.toContain(SECRET);
    } finally {
      records.close();
      await bind.stop();
    }
  });

  it('route53 against the local stand-in (AWS cannot be reached here): set, read back from the stand-in, remove', async () => {
    const standin: Route53Standin = await startRoute53Standin({ zones: { Z0STANDIN0FACTORY: 'example.com' }, accessKeyId: 'AKIDSTANDIN000000003', secretAccessKey: 'stand-in-secret' });
    const records = txtRecordsFrom({
      kind: 'route53',
      hostedZoneId: 'Z0STANDIN0FACTORY',
      endpoint: standin.endpoint,
      credentials: { accessKeyId: 'AKIDSTANDIN000000003', secretAccessKey: 'stand-in-secret' },
      timeoutMs: 3000,
    });
    try {
      await records.add('_acme-challenge.example.com', 'digest-value', 60);
      expect(standin.recordSet('Z0STANDIN0FACTORY', '_acme-challenge.example.com', 'TXT')).toMatchObject({ ttl: 60, values: ['"digest-value"'] });
      await records.remove('_acme-challenge.example.com', 'digest-value');
      expect(standin.recordSet('Z0STANDIN0FACTORY', '_acme-challenge.example.com', 'TXT')).toBeUndefined();
    } finally {
      records.close();
      await standin.close();
    }
  });
});
