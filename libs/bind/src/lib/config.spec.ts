import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { absoluteName, canonicalAddress, keyFileText, namedConf, nsupdateScript, parseDigOutput, zoneFileText } from './config';
import { BIND_INSTALL_COMMAND, BindNotInstalledError, findBindProgram, findNamed } from './install';

describe('bind config (pure)', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'vita-bind-spec-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('absoluteName: relative names join the zone, the apex and names already in it are kept, case folds', () => {
    expect(absoluteName('www', 'vita.test')).toBe('www.vita.test');
    expect(absoluteName('@', 'vita.test')).toBe('vita.test');
    expect(absoluteName('WWW.Vita.Test.', 'vita.test')).toBe('www.vita.test');
    expect(absoluteName('vita.test', 'vita.test')).toBe('vita.test');
    expect(() => absoluteName('a b', 'vita.test')).toThrow('name: "a b" is not a DNS name');
    expect(() => absoluteName('www', 'vita..test')).toThrow('zone: "vita..test" is not a DNS name');
  });

  it('canonicalAddress: IPv6 in the RFC 5952 form, bad addresses named', () => {
    expect(canonicalAddress('AAAA', '2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalAddress('AAAA', '2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalAddress('A', '192.0.2.1')).toBe('192.0.2.1');
    expect(() => canonicalAddress('A', '2001:db8::1', 'records[0].value')).toThrow('records[0].value: "2001:db8::1" is not an IPv4 address');
    expect(() => canonicalAddress('AAAA', '192.0.2.1')).toThrow('value: "192.0.2.1" is not an IPv6 address');
  });

  it('named-checkconf accepts the generated named.conf and key file (IPv4 and IPv6)', () => {
    const keyFile = join(dir, 'tsig.key');
    writeFileSync(keyFile, keyFileText({ name: 'vita-update', algorithm: 'hmac-sha256', secret: Buffer.alloc(32, 7).toString('base64') }), { mode: 0o600 });
    for (const address of ['127.0.0.1', '::1']) {
      const conf = join(dir, 'named.conf');
      writeFileSync(conf, namedConf({ dir, address, port: 5353, zone: 'vita.test', zoneFile: join(dir, 'z'), keyFile, keyName: 'vita-update' }));
      expect(() => execFileSync('named-checkconf', [conf], { stdio: 'pipe' })).not.toThrow();
    }
  });

  it('the key never appears in named.conf (it is included from the 0600 key file)', () => {
    const secret = Buffer.alloc(32, 9).toString('base64');
    const conf = namedConf({ dir, address: '127.0.0.1', port: 1, zone: 'vita.test', zoneFile: 'z', keyFile: join(dir, 'k'), keyName: 'k' });
    expect(keyFileText({ name: 'k', algorithm: 'hmac-sha256', secret })).toContain(secret);
    expect(conf).not.toContain('secret');
  });

  it('named-checkzone accepts the zone file with seeded records', () => {
    const file = join(dir, 'vita.test.zone');
    writeFileSync(
      file,
      zoneFileText('vita.test', '::1', [
        { name: 'www', type: 'A', value: '192.0.2.1', ttl: 60 },
        { name: 'www.vita.test', type: 'AAAA', value: '2001:db8::1' },
      ]),
    );
    const out = execFileSync('named-checkzone', ['vita.test', file], { encoding: 'utf8' });
    expect(out).toMatch(/loaded serial 1/);
  });

  it('zoneFileText names the bad record field', () => {
    expect(() => zoneFileText('vita.test', '127.0.0.1', [{ name: 'www', type: 'A', value: 'x' }])).toThrow('records[0].value: "x" is not an IPv4 address');
    expect(() => zoneFileText('vita.test', '127.0.0.1', [{ name: 'www', type: 'A', value: '192.0.2.1', ttl: -1 }])).toThrow('records[0]: TTL -1');
  });

  it('nsupdateScript refuses values that are not addresses (nothing can be smuggled into the script)', () => {
    const base = { address: '127.0.0.1', port: 53, zone: 'vita.test', name: 'www', type: 'A' as const, ttl: 60 };
    expect(() => nsupdateScript({ ...base, values: ['192.0.2.1\nupdate delete vita.test.'] })).toThrow('values[0]:');
    expect(() => nsupdateScript({ ...base, values: [], name: 'www\nsend' })).toThrow('is not a DNS name');
    expect(nsupdateScript({ ...base, values: [] }).split('\n').filter((l) => l.startsWith('update'))).toEqual(['update delete www.vita.test. A']);
  });

  it('parseDigOutput reads status and answers, ignoring other names and types', () => {
    const out = [
      ';; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1',
      'www.vita.test.\t\t60\tIN\tA\t192.0.2.1',
      'WWW.vita.test.\t\t60\tIN\tA\t192.0.2.2',
      'www.vita.test.\t\t60\tIN\tAAAA\t2001:db8::1',
      'other.vita.test.\t\t60\tIN\tA\t192.0.2.3',
    ].join('\n');
    expect(parseDigOutput(out, 'www.vita.test', 'A')).toEqual({
      status: 'NOERROR',
      answers: [
        { value: '192.0.2.1', ttl: 60 },
        { value: '192.0.2.2', ttl: 60 },
      ],
    });
    expect(parseDigOutput('', 'x', 'A')).toEqual({ status: undefined, answers: [] });
  });

  it('findNamed finds the installed named; a missing one names the install command', () => {
    expect(findNamed()).toMatch(/\/named$/);
    expect(() => findNamed({ PATH: '', VITA_NAMED: join(dir, 'no-such-named') })).toThrow(BindNotInstalledError);
    expect(() => findBindProgram('dig', { PATH: '', VITA_DIG: join(dir, 'nope') })).toThrow(`install BIND 9 with \`${BIND_INSTALL_COMMAND}\``);
    expect(BIND_INSTALL_COMMAND).toBe('apt-get install bind9 bind9-dnsutils');
  });
});
