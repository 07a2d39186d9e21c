import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { CaInputError, caPaths, describeCert, initCa, ipRangeConstraints, issueHostCert, showCerts } from '../index';

const mode = (file: string): number => statSync(file).mode & 0o777;

/** Connects to a TLS server on 127.0.0.1 serving `pair`, trusting `ca`, checking the name `servername` or the IP. */
async function handshake(pair: { key: string; crt: string }, ca: string): Promise<string> {
  const server = createServer({ key: readFileSync(pair.key), cert: readFileSync(pair.crt) }, (s) => s.end('hello'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  try {
    return await new Promise<string>((done, fail) => {
      const socket: TLSSocket = connect({ host: '127.0.0.1', port, ca: readFileSync(ca), timeout: 5_000 }, () => socket.once('data', (d) => done(String(d))));
      socket.once('error', fail);
      socket.once('timeout', () => fail(new Error('timeout')));
    });
  } finally {
    server.close();
  }
}

describe('internal CA', () => {
  let root: string;
  let dir: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'vita-ca-spec-'));
    dir = join(root, 'ca');
    await initCa({ dir, name: 'Test CA' });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates a CA whose key only its owner reads, and refuses to replace it without force', async () => {
    const ca = caPaths(dir);
    expect(mode(ca.key)).toBe(0o600);
    const cert = new X509Certificate(readFileSync(ca.crt));
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=Test CA');
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(ca.key)))).toBe(true);
    const before = cert.fingerprint256;
    await expect(initCa({ dir })).rejects.toThrow(CaInputError);
    await expect(initCa({ dir })).rejects.toThrow(/^--dir: .* already holds a CA .*left as it is \(--force replaces it/);
    expect(describeCert(ca.crt).fingerprint256).toBe(before);
    const other = join(root, 'forced');
    await initCa({ dir: other });
    const first = describeCert(caPaths(other).crt).fingerprint256;
    await initCa({ dir: other, force: true });
    expect(describeCert(caPaths(other).crt).fingerprint256).not.toBe(first);
  });

  it('issues a host certificate that openssl and Node verify, for exactly its IPs and names', async () => {
    const pair = await issueHostCert({ dir, name: 'db-a', ips: ['127.0.0.1', '::1'], dns: ['db-a.example'] });
    expect(mode(pair.key)).toBe(0o600);
    expect(execFileSync('openssl', ['verify', '-CAfile', caPaths(dir).crt, pair.crt], { encoding: 'utf8' })).toBe(`${pair.crt}: OK\n`);
    const cert = new X509Certificate(readFileSync(pair.crt));
    const ca = new X509Certificate(readFileSync(caPaths(dir).crt));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe('IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:db-a.example');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(cert.checkIP('127.0.0.2')).toBeUndefined();
    expect(cert.checkHost('db-a.example')).toBe('db-a.example');
    expect(cert.checkHost('db-b.example')).toBeUndefined();
    expect(cert.keyUsage).toEqual(expect.arrayContaining(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])); // serverAuth, clientAuth
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(pair.key)))).toBe(true);
    expect(await handshake(pair, caPaths(dir).crt)).toBe('hello');
  });

  it('a TLS client refuses a certificate for another address, or from another CA', async () => {
    const elsewhere = await issueHostCert({ dir, name: 'db-two', ips: ['127.0.0.2'] });
    await expect(handshake(elsewhere, caPaths(dir).crt)).rejects.toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    const stranger = join(root, 'stranger');
    await initCa({ dir: stranger });
    const good = await issueHostCert({ dir, name: 'db-local', ips: ['127.0.0.1'] });
    await expect(handshake(good, caPaths(stranger).crt)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('re-issuing replaces the pair whole (rotation) and leaves no old generation behind', async () => {
    const first = await issueHostCert({ dir, name: 'rot', dns: ['rot.example'] });
    const before = describeCert(first.crt).fingerprint256;
    const again = await issueHostCert({ dir, name: 'rot', dns: ['rot.example'], days: 30 });
    expect(describeCert(again.crt).fingerprint256).not.toBe(before);
    expect(new X509Certificate(readFileSync(again.crt)).checkPrivateKey(createPrivateKey(readFileSync(again.key)))).toBe(true);
    expect(describeCert(again.crt).notAfter.getTime() - Date.now()).toBeLessThan(31 * 86_400_000);
    expect(readdirSync(dir).filter((f) => f.startsWith('.rot.g-'))).toHaveLength(1);
  });

  it('a failed issue leaves the previous pair as it was and nothing half-written', async () => {
    const copy = join(root, 'broken');
    cpSync(dir, copy, { recursive: true, verbatimSymlinks: true });
    const pair = await issueHostCert({ dir: copy, name: 'keep', ips: ['127.0.0.1'] });
    const before = describeCert(pair.crt).fingerprint256;
    const liveCaKey = join(copy, readdirSync(copy).find((f) => f.startsWith('.ca.g-')) as string, 'key');
    writeFileSync(liveCaKey, 'not a key');
    await expect(issueHostCert({ dir: copy, name: 'keep', ips: ['127.0.0.1'] })).rejects.toThrow(/^openssl x509 failed: /);
    expect(describeCert(pair.crt).fingerprint256).toBe(before);
    expect(new X509Certificate(readFileSync(pair.crt)).checkPrivateKey(createPrivateKey(readFileSync(pair.key)))).toBe(true);
    expect(readdirSync(copy).filter((f) => f.startsWith('.keep.g-'))).toHaveLength(1);
  });

  it('a CA limited by name constraints vouches for its names and ranges only: openssl and Node refuse anything else', async () => {
    const limited = join(root, 'limited');
    await initCa({ dir: limited, name: 'Limited CA', permit: { dns: ['localhost'], ipRanges: ['127.0.0.0/8', '::1/128'] } });
    const ca = caPaths(limited).crt;
    expect(execFileSync('openssl', ['x509', '-in', ca, '-noout', '-ext', 'nameConstraints'], { encoding: 'utf8' })).toMatch(
      /Name Constraints: critical\n\s+Permitted:\n\s+DNS:localhost\n\s+IP:127\.0\.0\.0\/255\.0\.0\.0\n\s+IP:0:0:0:0:0:0:0:1\/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF\n/,
    );
    const verify = (crt: string) => {
      try {
        return execFileSync('openssl', ['verify', '-CAfile', ca, crt], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (err) {
        return String((err as { stdout?: string }).stdout) + String((err as { stderr?: string }).stderr);
      }
    };
    const inside = await issueHostCert({ dir: limited, name: 'localhost', ips: ['127.0.0.1', '::1'], dns: ['localhost', 'app.localhost'] });
    expect(verify(inside.crt)).toBe(`${inside.crt}: OK\n`);
    expect(await handshake(inside, ca)).toBe('hello');
    const outside = [{ name: 'web', dns: ['example.org'] }, { name: 'lan', ips: ['10.0.0.1'] }, { name: 'mixed', ips: ['127.0.0.1'], dns: ['localhost', 'example.org'] }];
    for (const host of outside) {
      const pair = await issueHostCert({ dir: limited, ...host });
      expect([host.name, verify(pair.crt)]).toEqual([host.name, expect.stringContaining('permitted subtree violation')]);
    }
    // A TLS client (Node's, on OpenSSL) refuses it too, even connecting to an address the certificate may name.
    await expect(handshake({ key: join(limited, 'mixed.key'), crt: join(limited, 'mixed.crt') }, ca)).rejects.toThrow('permitted subtree violation');
  });

  it('writes address ranges as openssl does, refusing what is not a range', () => {
    expect(ipRangeConstraints(['127.0.0.0/8', '10.1.2.0/23', '::1/128', 'fd00::/8', '::/0', '::ffff:10.0.0.0/104'])).toEqual([
      'IP:127.0.0.0/255.0.0.0',
      'IP:10.1.2.0/255.255.254.0',
      'IP:::1/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      'IP:fd00::/ff00:0:0:0:0:0:0:0',
      'IP:::/0:0:0:0:0:0:0:0',
      'IP:::ffff:10.0.0.0/ffff:ffff:ffff:ffff:ffff:ffff:ff00:0',
    ]);
    for (const bad of ['127.0.0.1', '127.0.0.0/33', '::1/129', 'localhost/8', '127.0.0.0/8/1', '127.0.0.0/x']) {
      expect(() => ipRangeConstraints([bad])).toThrow(new CaInputError('--permit-ip', `"${bad}" is not an address range such as 127.0.0.0/8 or ::1/128`));
    }
    expect(() => ipRangeConstraints(['127.0.0.1/8'])).toThrow(/^--permit-ip: "127\.0\.0\.1\/8" has bits set past its prefix/);
    expect(() => ipRangeConstraints(['::1/64'])).toThrow(/has bits set past its prefix/);
  });

  it('refuses a name constraint that is not a DNS name, writing no CA', async () => {
    const none = join(root, 'no-constraint');
    await expect(initCa({ dir: none, permit: { dns: ['*.example.org'] } })).rejects.toThrow(/^--permit-dns: "\*\.example\.org" is not a DNS name/);
    await expect(initCa({ dir: none, permit: { ipRanges: ['10.0.0.0/40'] } })).rejects.toThrow(/^--permit-ip: /);
    expect(existsSync(none)).toBe(false);
  });

  it.each([
    [{ name: 'a/b', ips: ['127.0.0.1'] }, /^--name: "a\/b" must be 1-64 letters/],
    [{ name: 'ca', ips: ['127.0.0.1'] }, /^--name: "ca" is the CA's own name/],
    [{ name: 'h', ips: ['127.0.0.300'] }, /^--ip: "127.0.0.300" is not an IP address$/],
    [{ name: 'h', dns: ['bad_name.example'] }, /^--dns: "bad_name.example" is not a DNS name$/],
    [{ name: 'h' }, /^--ip: give at least one IP address/],
    [{ name: 'h', ips: ['127.0.0.1'], days: 0 }, /^--days: must be a whole number/],
    [{ name: 'h', ips: ['127.0.0.1'], dir: '' }, /^--dir: is required$/],
  ])('refuses %p with an error naming the flag, writing nothing', async (change, message) => {
    await expect(issueHostCert({ dir, ...change })).rejects.toThrow(message);
    expect(existsSync(join(dir, 'h.crt'))).toBe(false);
  });

  it('refuses to issue without a CA, and shows what a directory holds', async () => {
    const empty = mkdtempSync(join(root, 'empty-'));
    await expect(issueHostCert({ dir: empty, name: 'h', ips: ['127.0.0.1'] })).rejects.toThrow(/^--dir: .* holds no CA \(ca.key and ca.crt\): run init first$/);
    expect(readdirSync(empty)).toEqual([]);
    const shown = showCerts({ dir });
    expect(shown[0]).toMatchObject({ subject: 'CN=Test CA' });
    expect(shown.map((c) => c.subject)).toEqual(expect.arrayContaining(['CN=db-a', 'CN=rot']));
    expect(showCerts({ dir, name: 'db-a' })).toEqual([expect.objectContaining({ subject: 'CN=db-a', issuer: 'CN=Test CA', subjectAltName: expect.stringContaining('IP Address:127.0.0.1') })]);
    expect(() => showCerts({ dir, name: 'nobody' })).toThrow(/^--name: .* holds no certificate for "nobody"$/);
  });
});
