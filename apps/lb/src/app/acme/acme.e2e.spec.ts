import { BindServer } from '@vita/bind';
import { txtRecordsFrom, type TxtRecords } from '@vita/dns-providers';
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@vita/testing';
import { Pebble, verifiesAgainst } from '../../test/pebble';
import { AcmeManager, AcmeProblem, AcmeSettings, FileChallengeStore, RenewedInfo } from './index';

const NAMES = ['www.vita.test', 'alt.vita.test'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stands in for lb's plain HTTP listener on some node: answers HTTP-01 from a challenge folder. */
async function challengeServer(dir: string, port: number): Promise<{ server: Server; served: string[] }> {
  const store = new FileChallengeStore(dir);
  const served: string[] = [];
  const server = createServer((req, res) => {
    const m = /^\/\.well-known\/acme-challenge\/([^/?]+)$/.exec(req.url ?? '');
    const answer = m ? store.get(m[1]) : undefined;
    if (!m || answer === undefined) {
      res.writeHead(404).end();
      return;
    }
    served.push(m[1]);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(answer);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { server, served };
}

describe('AcmeManager against a real pebble (HTTP-01, validation through BIND)', () => {
  let work: string;
  let bind: BindServer;
  let pebble: Pebble;
  let shared: string;
  let validator: { server: Server; served: string[] };

  function node(name: string, extra: Partial<AcmeSettings> = {}): AcmeSettings {
    const d = join(work, name);
    mkdirSync(d, { recursive: true });
    return {
      directoryUrl: pebble.directoryUrl,
      email: 'ops@vita.test',
      names: NAMES,
      accountKeyFile: join(d, 'account.key'),
      certFile: join(d, 'cert.pem'),
      keyFile: join(d, 'key.pem'),
      challengeDir: shared,
      ca: pebble.tlsCert,
      timeoutMs: 5_000,
      retryMinMs: 2_000,
      retryMaxMs: 20_000,
      ...extra,
    };
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'vita-acme-'));
    shared = join(work, 'challenges');
    mkdirSync(shared);
    const httpPort = await freePort();
    validator = await challengeServer(shared, httpPort);
    bind = await BindServer.start({ zone: 'vita.test', records: NAMES.map((n) => ({ name: `${n}.`, type: 'A' as const, value: '127.0.0.1' })) });
    pebble = await Pebble.start({ dir: work, dnsServer: `127.0.0.1:${bind.port}`, httpPort });
  }, 30_000);

  afterAll(async () => {
    await pebble?.stop();
    await bind?.stop();
    await new Promise<void>((r) => (validator ? validator.server.close(() => r()) : r()));
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('obtains one certificate for two names that verifies against pebble\'s root; account key 0600, reused on the next run', async () => {
    const renewed: RenewedInfo[] = [];
    const settings = node('a', { onRenewed: (i) => renewed.push(i) });
    const first = new AcmeManager(settings);
    expect(await first.ensure()).toEqual({ renewed: true, reason: 'missing' });
    expect(renewed).toHaveLength(1);
    expect(validator.served.length).toBeGreaterThanOrEqual(2); // pebble really fetched both key authorizations
    expect(readdirSync(shared)).toEqual([]); // challenge files removed after

    const chain = readFileSync(settings.certFile, 'utf8');
    const leaf = new X509Certificate(chain);
    expect(leaf.subjectAltName).toContain('DNS:www.vita.test');
    expect(leaf.subjectAltName).toContain('DNS:alt.vita.test');
    expect(verifiesAgainst(chain, await pebble.root())).toBe(true);
    expect(statSync(settings.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(settings.accountKeyFile).mode & 0o777).toBe(0o600);

    const st = first.status();
    expect(st.state).toBe('ok');
    expect(st.accountUrl).toMatch(/^https:\/\/127\.0\.0\.1:/);
    for (const n of st.names) {
      expect(n.covered).toBe(true);
      expect(n.issuer).toMatch(/Pebble/i);
      expect(n.daysLeft).toBeGreaterThanOrEqual(0); // pebble here issues 1-hour certificates
      expect(Date.parse(n.notAfter ?? '')).toBeGreaterThan(Date.now());
      expect(n.lastError).toBeUndefined();
      expect(n.lastAttemptAt).toBeDefined();
    }

    // Next run (a restart): the same account key file gives the same account; nothing is due, so nothing is ordered.
    const keyBefore = readFileSync(settings.accountKeyFile, 'utf8');
    const second = new AcmeManager({ ...settings, names: [...NAMES].reverse() });
    expect(await second.ensure()).toEqual({ renewed: false });
    expect(readFileSync(settings.certFile, 'utf8')).toBe(chain);
    const third = new AcmeManager({ ...settings, names: [...NAMES, 'new.vita.test'] });
    await bind.handEdit('new.vita.test.', 'A', ['127.0.0.1']);
    expect(await third.ensure()).toEqual({ renewed: true, reason: 'names' });
    expect(third.status().accountUrl).toBe(st.accountUrl);
    expect(readFileSync(settings.accountKeyFile, 'utf8')).toBe(keyBefore);
    expect(new X509Certificate(readFileSync(settings.certFile)).subjectAltName).toContain('DNS:new.vita.test');
  });

  it('renews once past the renewal point, replacing both files by rename and calling onRenewed', async () => {
    const renewed: RenewedInfo[] = [];
    const base = node('b');
    await new AcmeManager(base).ensure();
    const oldCert = readFileSync(base.certFile, 'utf8');
    const oldInodes = [statSync(base.certFile).ino, statSync(base.keyFile).ino];
    const notAfter = new X509Certificate(oldCert).validTo;

    // pebble issues 1-hour certificates here; a clock 50 minutes ahead is past 2/3 of the lifetime.
    const later = new AcmeManager({ ...base, now: () => new Date(Date.now() + 50 * 60_000), onRenewed: (i) => renewed.push(i) });
    expect(later.status().names[0].renewAt).toBeDefined();
    expect(await later.ensure()).toEqual({ renewed: true, reason: 'due' });
    expect(renewed).toHaveLength(1);
    expect(renewed[0].reason).toBe('due');
    const newCert = readFileSync(base.certFile, 'utf8');
    expect(newCert).not.toBe(oldCert);
    expect(new X509Certificate(newCert).serialNumber).not.toBe(new X509Certificate(oldCert).serialNumber);
    expect(Date.parse(new X509Certificate(newCert).validTo)).toBeGreaterThanOrEqual(Date.parse(notAfter));
    // renamed over, not rewritten in place (an inode can only come back once its old file is gone)
    expect(statSync(base.certFile).ino).not.toBe(oldInodes[0]);
    expect(statSync(base.keyFile).ino).not.toBe(oldInodes[1]);
    expect(readdirSync(join(work, 'b')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(statSync(base.keyFile).mode & 0o777).toBe(0o600);
    expect(new X509Certificate(newCert).checkPrivateKey(createPrivateKey(readFileSync(base.keyFile)))).toBe(true);
  });

  it('passes validation when the challenge is answered by another node reading the shared folder', async () => {
    // Node "c" orders; the validator is a different process's listener that only knows the shared folder.
    const c = new AcmeManager(node('c'));
    const servedBefore = validator.served.length;
    expect(await c.ensure()).toEqual({ renewed: true, reason: 'missing' });
    expect(validator.served.length - servedBefore).toBeGreaterThanOrEqual(2);
    // Node "d" orders the same names into its own files through the same shared folder at the same time.
    const d = new AcmeManager(node('d'));
    const [rc, rd] = await Promise.all([new AcmeManager({ ...node('c'), now: () => new Date(Date.now() + 55 * 60_000) }).ensure(), d.ensure()]);
    expect(rc.renewed && rd.renewed).toBe(true);
    expect(readdirSync(shared)).toEqual([]);
  });

  it('refuses hostile tokens in FileChallengeStore', () => {
    writeFileSync(join(work, 'x'), 'secret');
    const store = new FileChallengeStore(shared);
    for (const t of ['../x', '..', '.', '', 'a/b', '%2e%2e%2fx', 'x'.repeat(129), 'a\0b', 'a.b']) expect(store.get(t)).toBeUndefined();
  });

  it('pebble down: ensure() fails with one clear line, old files untouched, retry scheduled with backoff; onProblem near expiry', async () => {
    const base = node('e');
    await new AcmeManager(base).ensure();
    const before = [readFileSync(base.certFile, 'utf8'), readFileSync(base.keyFile, 'utf8')];
    const inodes = [statSync(base.certFile).ino, statSync(base.keyFile).ino];
    await pebble.stop();

    const problems: AcmeProblem[] = [];
    const m = new AcmeManager({ ...base, now: () => new Date(Date.now() + 50 * 60_000), onProblem: (p) => problems.push(p) });
    const t0 = Date.now();
    await expect(m.ensure()).rejects.toThrow(/unreachable: ECONNREFUSED/);
    expect(Date.now() - t0).toBeLessThan(5_000); // no hidden retry loop inside acme-client
    const st = m.status();
    expect(st.state).toBe('failing');
    expect(st.failures).toBe(1);
    const n = st.names[0];
    expect(n.lastError).toMatch(/^ACME server 127\.0\.0\.1:\d+ unreachable: ECONNREFUSED/);
    expect(n.lastError).not.toMatch(/\n|BEGIN/);
    const wait1 = Date.parse(n.nextAttemptAt ?? '') - (Date.now() + 50 * 60_000);
    expect(wait1).toBeGreaterThan(1_000);
    expect(wait1).toBeLessThanOrEqual(2_000);
    await expect(m.ensure()).rejects.toThrow(/ECONNREFUSED/);
    const wait2 = Date.parse(m.status().names[0].nextAttemptAt ?? '') - (Date.now() + 50 * 60_000);
    expect(wait2).toBeGreaterThan(wait1); // backoff grows
    expect(wait2).toBeLessThanOrEqual(4_000);
    // the cert (1 h life) expires within 14 days: lb is told
    expect(problems).toHaveLength(2);
    expect(problems[0].error).toBe(n.lastError);
    expect([readFileSync(base.certFile, 'utf8'), readFileSync(base.keyFile, 'utf8')]).toEqual(before);
    expect([statSync(base.certFile).ino, statSync(base.keyFile).ino]).toEqual(inodes);

    // start(): the scheduled check fails too and stays scheduled; stop() cancels.
    m.start();
    for (let i = 0; i < 50 && m.status().failures < 3; i++) await sleep(50);
    expect(m.status().failures).toBe(3);
    expect(m.status().names[0].nextAttemptAt).toBeDefined();
    await m.stop();
  });
});

/** dig as an independent oracle: the TXT records BIND serves for `name`, as dig prints them (sorted). */
async function digTxt(bind: BindServer, name: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)('dig', ['+tcp', '+norecurse', '+short', '+time=2', '+tries=2', '-p', String(bind.port), `@${bind.address}`, name, 'TXT'], { timeout: 15_000 });
  return stdout.split('\n').filter(Boolean).sort();
}

/** TXT records through another TxtRecords, noting each call and what BIND serves right after each add; `mangle` alters the published value. */
class ObservedTxt implements TxtRecords {
  readonly id: string;
  readonly added: Array<{ fqdn: string; value: string; served: string[] }> = [];
  readonly removed: Array<{ fqdn: string; value: string }> = [];
  constructor(
    private readonly inner: TxtRecords,
    private readonly bind: BindServer,
    private readonly mangle = (v: string) => v,
  ) {
    this.id = inner.id;
  }
  async add(fqdn: string, value: string, ttl: number): Promise<void> {
    await this.inner.add(fqdn, this.mangle(value), ttl);
    this.added.push({ fqdn, value, served: await digTxt(this.bind, fqdn) });
  }
  async remove(fqdn: string, value: string): Promise<void> {
    this.removed.push({ fqdn, value });
    await this.inner.remove(fqdn, this.mangle(value));
  }
  close(): void {
    this.inner.close();
  }
}

describe('AcmeManager against a real pebble (DNS-01: TXT records through a real BIND with TSIG)', () => {
  const NAMES_DNS = ['vita.test', '*.vita.test', 'www.vita.test'];
  let work: string;
  let bind: BindServer;
  let pebble: Pebble;
  const opened: TxtRecords[] = [];

  /** The RFC 2136 TXT records lb would build from its settings: BIND's own key file. */
  function bindTxt(keyFile = bind.keyFile): TxtRecords {
    const records = txtRecordsFrom({ kind: 'rfc2136', server: `${bind.address}:${bind.port}`, zone: 'vita.test', keyFile, timeoutMs: 3_000 });
    opened.push(records);
    return records;
  }

  function node(name: string, dns01: TxtRecords, extra: Partial<AcmeSettings> = {}): AcmeSettings {
    const d = join(work, name);
    mkdirSync(d, { recursive: true });
    return {
      directoryUrl: pebble.directoryUrl,
      email: 'ops@vita.test',
      names: NAMES_DNS,
      accountKeyFile: join(d, 'account.key'),
      certFile: join(d, 'cert.pem'),
      keyFile: join(d, 'key.pem'),
      dns01,
      ca: pebble.tlsCert,
      timeoutMs: 5_000,
      retryMinMs: 2_000,
      retryMaxMs: 20_000,
      ...extra,
    };
  }

  const challengeNames = ['_acme-challenge.vita.test', '_acme-challenge.www.vita.test'];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'vita-acme-dns01-'));
    bind = await BindServer.start({ zone: 'vita.test' });
    // No HTTP-01 listener anywhere: pebble's HTTP port is one nobody listens on.
    pebble = await Pebble.start({ dir: work, dnsServer: `127.0.0.1:${bind.port}`, httpPort: await freePort() });
  }, 30_000);

  afterAll(async () => {
    for (const r of opened) r.close();
    await pebble?.stop();
    await bind?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('obtains one certificate for the apex, its wildcard and www; each digest is served by BIND while pending and gone afterwards', async () => {
    const txt = new ObservedTxt(bindTxt(), bind);
    const renewed: RenewedInfo[] = [];
    const settings = node('dns-a', txt, { onRenewed: (i) => renewed.push(i) });
    const m = new AcmeManager(settings);
    expect(await m.ensure()).toEqual({ renewed: true, reason: 'missing' });
    expect(renewed).toHaveLength(1);

    const chain = readFileSync(settings.certFile, 'utf8');
    const leaf = new X509Certificate(chain);
    expect(leaf.subjectAltName?.split(', ').sort()).toEqual(['DNS:*.vita.test', 'DNS:vita.test', 'DNS:www.vita.test']);
    expect(verifiesAgainst(chain, await pebble.root())).toBe(true);
    expect(leaf.checkPrivateKey(createPrivateKey(readFileSync(settings.keyFile)))).toBe(true);

    // Three authorizations: the apex and the wildcard both at _acme-challenge.vita.test, each with its own digest.
    expect(txt.added.map((a) => a.fqdn).sort()).toEqual(['_acme-challenge.vita.test', '_acme-challenge.vita.test', '_acme-challenge.www.vita.test']);
    const apexValues = txt.added.filter((a) => a.fqdn === '_acme-challenge.vita.test').map((a) => a.value);
    expect(new Set(apexValues).size).toBe(2);
    for (const a of txt.added) {
      expect(a.value).toMatch(/^[A-Za-z0-9_-]{43}$/); // base64url SHA-256 of the key authorization
      expect(a.served).toContain(`"${a.value}"`); // BIND served it right after the update
    }
    expect(txt.removed.map((r) => `${r.fqdn} ${r.value}`).sort()).toEqual(txt.added.map((a) => `${a.fqdn} ${a.value}`).sort());
    for (const n of challengeNames) expect(await digTxt(bind, n)).toEqual([]);
    expect(await bind.waitForOutput(/updating zone 'vita\.test\/IN': deleting an RR at _acme-challenge\.vita\.test TXT/)).toBeTruthy();

    const st = m.status();
    expect(st.state).toBe('ok');
    expect(st.challengeType).toBe('dns-01');
    expect(st.cleanupError).toBeUndefined();
    expect(st.names.map((n) => [n.name, n.covered])).toEqual(NAMES_DNS.map((n) => [n, true]));
    // Renewal past the renewal point (pebble issues 1-hour certificates here) goes through DNS-01 again.
    const later = new AcmeManager({ ...settings, now: () => new Date(Date.now() + 50 * 60_000) });
    expect(await later.ensure()).toEqual({ renewed: true, reason: 'due' });
    expect(new X509Certificate(readFileSync(settings.certFile)).serialNumber).not.toBe(leaf.serialNumber);
    // At least one new challenge answered through DNS (pebble may hand back an authorization still valid
    // from the first order for the others: seen on a loaded machine), every record taken down again.
    expect(txt.added.length).toBeGreaterThan(3);
    expect(txt.added.length).toBeLessThanOrEqual(6);
    expect(txt.removed.length).toBe(txt.added.length);
    for (const n of challengeNames) expect(await digTxt(bind, n)).toEqual([]);
  });

  it('a DNS update BIND refuses (a key file with the wrong secret): one clear line naming the record and the server, never the secret; nothing is left published', async () => {
    const wrongSecret = Buffer.alloc(32, 0x42).toString('base64');
    const wrongFile = join(work, 'wrong.key');
    writeFileSync(wrongFile, `key "${bind.key.name}" {\n\talgorithm hmac-sha256;\n\tsecret "${wrongSecret}";\n};\n`, { mode: 0o600 });
    const txt = new ObservedTxt(bindTxt(wrongFile), bind);
    const settings = node('dns-b', txt, { names: ['www.vita.test'] });
    const m = new AcmeManager(settings);
    const failed = await m.ensure().then(
      () => undefined,
      (e: Error) => e,
    );
    const line = `DNS-01 for www.vita.test: publishing the _acme-challenge.www.vita.test TXT record failed: rfc2136 ${bind.address}:${bind.port}: add _acme-challenge.www.vita.test TXT failed: NOTAUTH, TSIG BADSIG (the server refused key "${bind.key.name}")`;
    expect(failed?.message).toBe(`acme: certificate for www.vita.test: ${line}`);
    const st = m.status();
    expect(st.state).toBe('failing');
    expect(st.names[0].lastError).toBe(line);
    for (const text of [failed?.message ?? '', st.names[0].lastError ?? '']) {
      expect(text).not.toMatch(/\n/);
      expect(text).not.toContain(wrongSecret);
      expect(text).not.toContain(Buffer.from(wrongSecret, 'base64').toString('hex'));
      expect(text).not.toContain(bind.key.secret);
    }
    expect(await bind.waitForOutput(/request has invalid signature: TSIG vita-update: tsig verify failure \(BADSIG\)/)).toBeTruthy();
    expect(await digTxt(bind, '_acme-challenge.www.vita.test')).toEqual([]);
    // the removal was tried too (the add might have been applied), and failed the same way: reported, not thrown
    expect(txt.removed.length).toBeGreaterThanOrEqual(1);
    expect(st.cleanupError).toMatch(/^DNS-01: removing a _acme-challenge\.www\.vita\.test TXT record failed: .*BADSIG/);
    expect(st.cleanupError).not.toContain(wrongSecret);
  });

  it('validation that fails (the published TXT value is not the digest pebble expects): the order fails with pebble\'s reason and the records are removed', async () => {
    const txt = new ObservedTxt(bindTxt(), bind, (v) => `not-${v}`);
    const m = new AcmeManager(node('dns-c', txt, { names: ['vita.test', '*.vita.test'] }));
    // pebble's problem detail, as the CA words it
    await expect(m.ensure()).rejects.toThrow('acme: certificate for vita.test, *.vita.test: Correct value not found for DNS challenge');
    const st = m.status();
    expect(st.state).toBe('failing');
    expect(st.names[0].lastError).not.toMatch(/\n/);
    // what was published really was served (so its removal is what this checks)…
    expect(txt.added.length).toBeGreaterThanOrEqual(1);
    for (const a of txt.added) expect(a.served).toContain(`"not-${a.value}"`);
    // …and every published value was taken down again
    expect(await digTxt(bind, '_acme-challenge.vita.test')).toEqual([]);
    expect(st.cleanupError).toBeUndefined();
    expect(readdirSync(join(work, 'dns-c')).filter((f) => f.endsWith('.pem'))).toEqual([]);
  });
});
