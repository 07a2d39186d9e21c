import { findMariadbdPids } from '@vita/mariadb';
import { freePort, sampleResume, workspaceRoot } from '@vita/testing';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { Resolver } from 'node:dns/promises';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { CliError, exportResume, importResume } from '../resume/resume-cli';
import { parseEnvFile } from '@vita/runtime';

/** `npm start` as a user runs it (the api bundle is built by the test target's dependency). */
describe('npm start: the whole stack on one machine', () => {
  const root = workspaceRoot();
  const home = mkdtempSync(join(tmpdir(), 'vita-stack-test-'));
  let env: NodeJS.ProcessEnv;
  let apiUrls: string[];
  let webUrl: string;
  let lbUrl: string;
  let replAdminUrl: string;
  let dnsUrl: string;
  let bindPort: number;
  let httpsPort: number;

  beforeAll(async () => {
    const ports = await Promise.all(Array.from({ length: 11 }, () => freePort()));
    apiUrls = ports.slice(2, 4).map((p) => `http://127.0.0.1:${p}`);
    webUrl = `http://127.0.0.1:${ports[4]}`;
    lbUrl = `http://127.0.0.1:${ports[5]}`;
    replAdminUrl = `http://127.0.0.1:${ports[7]}`;
    dnsUrl = `http://127.0.0.1:${ports[8]}`;
    bindPort = ports[9];
    httpsPort = ports[10];
    env = {
      ...process.env,
      VITA_HOME: home,
      VITA_SKIP_BUILD: '1',
      VITA_PRIMARY_PORT: String(ports[0]),
      VITA_REPLICA_PORT: String(ports[1]),
      VITA_API_PORTS: ports.slice(2, 4).join(','),
      VITA_WEB_PORTS: String(ports[4]),
      VITA_LB_PORT: String(ports[5]),
      VITA_LB_ADMIN_PORT: String(ports[6]),
      VITA_LB_HOST: '127.0.0.1',
      VITA_REPL_ADMIN_PORT: String(ports[7]),
      VITA_DNS_PORT: String(ports[8]),
      VITA_BIND_PORT: String(ports[9]),
      VITA_HTTPS_PORT: String(ports[10]),
    };
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  function start(extra: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string; ready: Promise<void> } {
    let out = '';
    const child = spawn(process.execPath, ['-r', './tools/register.js', 'tools/stack/start.ts'], { cwd: root, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stack not ready in 120 s:\n${out}`)), 120_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('[vita] ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`stack exited (${code}) before it was ready:\n${out}`));
      });
    });
    return { child, output: () => out, ready };
  }

  /** Ctrl-C; resolves to the exit code, or the signal that ended the process. */
  async function stop(child: ChildProcess): Promise<number | string | null> {
    const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    child.kill('SIGINT');
    return exited;
  }

  /** The A records BIND serves for the name, asked directly (no recursion, no cache). */
  const resolveA = (name: string) => {
    const resolver = new Resolver({ timeout: 1000, tries: 1 });
    resolver.setServers([`127.0.0.1:${bindPort}`]);
    return resolver.resolve4(name).finally(() => resolver.cancel());
  };
  /** named processes started with a config under this test's home. */
  const namedOfHome = () =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(home);
        } catch {
          return false;
        }
      })
      .filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0].endsWith('named'));

  /** One GET over HTTPS to lb on 127.0.0.1, verified against `ca` (the name checked: `servername`, or the address). */
  const httpsGet = (ca: Buffer | undefined, servername?: string) =>
    new Promise<{ status: number; body: string; hsts: string | undefined; issuer: string }>((resolve, reject) => {
      const host = servername ? `${servername}:${httpsPort}` : `127.0.0.1:${httpsPort}`;
      const req = httpsRequest({ host: '127.0.0.1', port: httpsPort, path: '/', ca, servername, agent: false, headers: { host }, timeout: 15_000 }, (res) => {
        const issuer = String((res.socket as TLSSocket).getPeerCertificate().issuer?.CN ?? '');
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, hsts: res.headers['strict-transport-security'], issuer }));
      });
      req.on('timeout', () => req.destroy(new Error('https request timed out')));
      req.on('error', reject);
      req.end();
    });
  const caFile = () => join(home, 'ca', 'ca.crt');
  const fingerprintOf = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;

  const getResume = (url: string) => fetch(`${url}/api/v1/resume`).then(async (r) => ({ etag: r.headers.get('etag'), body: (await r.json()) as { basics: { label?: string } } }));

  it('starts, loads the sample, imports and exports, stops cleanly, and keeps its data for the next start', async () => {
    let firstEnd: number | string | null = null;
    let secondEnd: number | string | null = null;
    const first = start();
    try {
      await first.ready;
      expect(first.output()).toContain('sample résumé loaded');
      for (const url of apiUrls) expect((await getResume(url)).body).toEqual(sampleResume());
      for (const url of [webUrl, lbUrl]) {
        const page = await fetch(`${url}/`, { redirect: 'manual' });
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<h1>Ada Quill</h1>');
        // Plain HTTP never pins the browser to https.
        expect(page.headers.get('strict-transport-security')).toBeNull();
      }

      // HTTPS through lb, verified against the CA the stack made (its key readable by its owner only).
      expect(statSync(join(home, 'ca', 'ca.key')).mode & 0o777).toBe(0o600);
      const ca = readFileSync(caFile());
      const secure = await httpsGet(ca);
      expect(secure).toMatchObject({ status: 200, issuer: 'Vita local CA', hsts: 'max-age=31536000; includeSubDomains' });
      expect(secure.body).toContain('<h1>Ada Quill</h1>');
      // By name: the same page, without HSTS (a browser would keep it for localhost on every port, 8080 too).
      expect(await httpsGet(ca, 'localhost')).toMatchObject({ status: 200, hsts: undefined, body: expect.stringContaining('<h1>Ada Quill</h1>') });
      // Not trusted without that CA.
      await expect(httpsGet(undefined)).rejects.toMatchObject({ code: expect.stringMatching(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)$/) });
      expect(first.output()).toContain('local CA made in');
      expect(first.output()).toContain(`https://localhost:${httpsPort}/  (lb terminates TLS`);
      expect(first.output()).toMatch(/trust the CA {5}\S*ca\.crt {2}\(made on this start: trust it once/);
      expect(first.output()).toMatch(/sudo cp \S*ca\.crt \/usr\/local\/share\/ca-certificates\/vita-local-ca\.crt && sudo update-ca-certificates/);
      expect(first.output()).toContain(`--cacert `);
      const topology = (await (await fetch(`${replAdminUrl}/api/v1/topology`)).json()) as { replicas: { name: string; state: string }[] };
      expect(topology.replicas).toEqual([expect.objectContaining({ name: 'replica1', state: 'OK' })]);

      // DNS failover: BIND on loopback answers the name with the lb's address, published by the controller.
      expect(await resolveA('resume.vita.test')).toEqual(['127.0.0.1']);
      const status = (await (await fetch(`${dnsUrl}/api/v1/status`)).json()) as { quorum: boolean; endpoints: object[]; providers: { provider: string; state: string }[] };
      expect(status.quorum).toBe(true);
      expect(status.endpoints).toEqual([expect.objectContaining({ node: 'local', address: '127.0.0.1', published: true, verdict: 'healthy' })]);
      expect(status.providers).toEqual([expect.objectContaining({ state: 'ok' })]);
      expect(namedOfHome()).toHaveLength(1);
      expect(first.output()).toContain(`${dnsUrl}/`);
      expect(first.output()).toContain(`dig @127.0.0.1 -p ${bindPort} resume.vita.test`);
      expect(first.output()).toMatch(/set -a; \. \S+secrets\.env; set \+a; DNS_URL=\S+ node dist\/apps\/dns\/cli\.js drain local --reason/);

      const secretsFile = join(home, 'secrets.env');
      expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
      const secrets = parseEnvFile(readFileSync(secretsFile, 'utf8'), secretsFile);
      expect(secrets['VITA_ADMIN_TOKEN']).toMatch(/^[\w-]{24,}$/);
      // The drain the stack prints, the token from the environment: refused, as local is the only node.
      const cli = (args: string[]) =>
        spawnSync(process.execPath, [join(root, 'dist', 'apps', 'dns', 'cli.js'), ...args], { env: { PATH: process.env['PATH'], DNS_URL: dnsUrl, DNS_ADMIN_TOKEN: secrets['DNS_ADMIN_TOKEN'] }, encoding: 'utf8', timeout: 30_000 });
      expect(cli(['status']).status).toBe(0);
      const drain = cli(['drain', 'local', '--reason', 'stack test']);
      expect([drain.status, drain.stderr]).toEqual([1, expect.stringMatching(/409: it is the last node not drained/)]);
      expect(first.output()).not.toContain(secrets['DNS_ADMIN_TOKEN']);
      expect(readFileSync(join(home, 'logs', `dns-${dnsUrl.split(':')[2]}.log`), 'utf8')).not.toContain(secrets['DNS_ADMIN_TOKEN']);
      for (const log of ['api-' + apiUrls[0].split(':')[2] + '.log', 'primary.log']) {
        expect(readFileSync(join(home, 'logs', log), 'utf8')).not.toContain(secrets['DB_READ_PASSWORD']);
      }

      const ctx = { apiUrl: apiUrls[1], token: secrets['VITA_ADMIN_TOKEN'], out: () => undefined };
      const changed = { ...sampleResume(), basics: { name: 'Ada Quill', label: 'Principal Engineer' } };
      const file = join(home, 'changed.json');
      writeFileSync(file, JSON.stringify(changed));
      expect(await importResume(file, ctx)).toBe(2);

      writeFileSync(file, '{\n  "basics": {\n    "email": "nope"\n  },\n  "work": [{ "startDate": 2020 }]\n}');
      await expect(importResume(file, ctx)).rejects.toThrow(/basics\.email: must be an e-mail address\n\s+work\[0\]\.startDate: must be a string/);
      writeFileSync(file, '{\n  "basics": {,\n}');
      await expect(importResume(file, ctx)).rejects.toThrow(CliError);

      const deadline = Date.now() + 10_000;
      for (const url of apiUrls) {
        while ((await getResume(url)).etag !== '"v2"' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      }
      const exported = join(home, 'exported.json');
      await exportResume(exported, ctx);
      expect(JSON.parse(readFileSync(exported, 'utf8'))).toEqual(changed);
      expect((await getResume(apiUrls[0])).body).toEqual(changed);
    } finally {
      firstEnd = await stop(first.child);
    }
    if (firstEnd !== 0) throw new Error(`the first start ended with ${firstEnd}:\n${first.output()}`);
    expect(first.output()).toContain('[vita] stopped');
    const caPrint = fingerprintOf(caFile());
    const leafPrint = fingerprintOf(join(home, 'ca', 'localhost.crt'));
    await expect(httpsGet(readFileSync(caFile()))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(findMariadbdPids(home)).toEqual([]);
    await expect(fetch(`${apiUrls[0]}/health/live`)).rejects.toThrow();
    // BIND and the controller are gone too, and BIND's private dir with them.
    await expect(fetch(`${dnsUrl}/health/live`)).rejects.toThrow();
    await expect(resolveA('resume.vita.test')).rejects.toThrow();
    expect(namedOfHome()).toEqual([]);
    expect(existsSync(join(home, 'bind')) ? readdirSync(join(home, 'bind')) : []).toEqual([]);

    // Without named, DNS failover is skipped with one line naming the install command, and the rest runs.
    const second = start({ VITA_NAMED: join(home, 'no-named-here') });
    try {
      await second.ready;
      expect(second.output()).toContain("DNS failover skipped: BIND's named is not installed; to see it too, run `apt-get install bind9 bind9-dnsutils` (as root)");
      await expect(fetch(`${dnsUrl}/health/live`)).rejects.toThrow();
      expect(second.output()).not.toContain('sample résumé loaded');
      const again = await getResume(apiUrls[0]);
      expect(again.etag).toBe('"v2"');
      expect(again.body.basics.label).toBe('Principal Engineer');
      // The same CA (trusted once is enough) and the same certificate, still valid for months.
      expect(second.output()).not.toContain('local CA made');
      expect(second.output()).toContain('the same CA as before: trusted once is enough');
      expect([fingerprintOf(caFile()), fingerprintOf(join(home, 'ca', 'localhost.crt'))]).toEqual([caPrint, leafPrint]);
      expect(await httpsGet(readFileSync(caFile()))).toMatchObject({ status: 200, hsts: 'max-age=31536000; includeSubDomains', body: expect.stringContaining('Principal Engineer') });
    } finally {
      secondEnd = await stop(second.child);
    }
    if (secondEnd !== 0) throw new Error(`the second start ended with ${secondEnd}:\n${second.output()}`);
  });
});
