import { BindServer } from '@vita/bind';
import { freePort, workspaceRoot } from '@vita/testing';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsStatus } from './app/controller/engine';
import { ADMIN_TOKEN, until } from './test/controller-harness';
import { startRoute53Standin } from '@vita/dns-providers';
import { FakeNode } from './test/fake-node';

/*
 * The built bundle (dist/apps/dns) against a real BIND 9 on loopback: what a resolver gets from BIND
 * is the oracle.
 */
const dist = join(workspaceRoot(), 'dist', 'apps', 'dns');
const NAME = 'resume.vita.test';
let bind: BindServer;
let a: FakeNode;
let b: FakeNode;
let nodePort: number;
let dir: string;
const children: ChildProcess[] = [];

interface Controller {
  url: string;
  child: ChildProcess;
  output: () => string;
  status: () => Promise<DnsStatus>;
}

async function startController(env: Record<string, string>): Promise<Controller> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [join(dist, 'main.js')], {
    env: {
      PATH: process.env['PATH'] ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      DNS_NAME: NAME,
      DNS_NODES: `node-a=${a.address},node-b=${b.address}`,
      DNS_PROBE_PORT: String(nodePort),
      DNS_PROBE_INTERVAL_MS: '300',
      DNS_PROBE_TIMEOUT_MS: '250',
      DNS_FALL: '2',
      DNS_RISE: '2',
      DNS_MIN_HOLD_MS: '0',
      DNS_CONVERGE_INTERVAL_MS: '1000',
      DNS_TTL: '30',
      DNS_RFC2136_SERVER: `${bind.address}:${bind.port}`,
      DNS_TSIG_KEY_FILE: bind.keyFile,
      DNS_ADMIN_TOKEN: ADMIN_TOKEN,
      DNS_VANTAGE: 'here',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const status = async () => (await (await fetch(`${url}/api/v1/status`, { signal: AbortSignal.timeout(3000) })).json()) as DnsStatus;
  await until(`the controller on ${url} to answer`, () => (child.exitCode !== null ? Promise.reject(new Error(`it exited: ${output}`)) : status().then(() => true)));
  return { url, child, output: () => output, status };
}

/** How it ended: its exit code, or the signal (Nest re-raises SIGTERM once it has shut down). */
const stopped = (c: Controller) => new Promise<number | string | null>((r) => (c.child.exitCode !== null ? r(c.child.exitCode) : c.child.once('exit', (code, signal) => r(code ?? signal))));
const served = () => bind.lookup(NAME, 'A').then((v) => v.join(' '));
const cli = (args: string[], url: string, token = ADMIN_TOKEN) =>
  spawnSync(process.execPath, [join(dist, 'cli.js'), ...args], { env: { PATH: process.env['PATH'] ?? '', DNS_URL: url, DNS_ADMIN_TOKEN: token }, encoding: 'utf8', timeout: 30_000 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vita-dns-e2e-'));
  nodePort = await freePort();
  [bind, a, b] = await Promise.all([BindServer.start({ zone: 'vita.test' }), FakeNode.start('node-a', '127.0.0.31', nodePort), FakeNode.start('node-b', '127.0.0.32', nodePort)]);
});
afterEach(async () => {
  const kill = (c: ChildProcess) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => (c.once('exit', r), c.kill('SIGKILL'))) : undefined);
  await Promise.all(children.splice(0).map(kill));
  await Promise.all([a.revive(), b.revive()]);
});
afterAll(async () => {
  await Promise.all([bind?.stop(), a?.kill(), b?.kill()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('dns controller (the built bundle) publishing to a real BIND 9', () => {
  it('publishes every node that serves the page, withdraws a dead one from what BIND answers, and puts it back', async () => {
    const c = await startController({});
    await until('both in BIND', async () => (await served()) === '127.0.0.31 127.0.0.32');
    expect(await bind.ttl(NAME, 'A')).toBe(30);
    await a.kill();
    await until('A gone from BIND', async () => (await served()) === '127.0.0.32');
    await a.revive();
    await until('A back in BIND', async () => (await served()) === '127.0.0.31 127.0.0.32');
    expect(c.output()).toMatch(/node-a@127\.0\.0\.31 is withdrawn: 1 of 1 vantage points see it down/);
    const t0 = Date.now();
    c.child.kill('SIGTERM');
    expect(await stopped(c)).toBe('SIGTERM');
    // A generous bound: rounds and provider calls stop, nothing hangs on the way out.
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('puts back a record edited by hand in BIND, and says so', async () => {
    const c = await startController({});
    await until('both in BIND', async () => (await served()) === '127.0.0.31 127.0.0.32');
    await bind.handEdit('resume', 'A', ['127.0.0.99'], 30);
    expect(await served()).toBe('127.0.0.99');
    await until('put back', async () => (await served()) === '127.0.0.31 127.0.0.32', 10_000);
    expect(c.output()).toMatch(/rfc2136 served A 127\.0\.0\.99 where 127\.0\.0\.31 127\.0\.0\.32 was published \(a hand edit, or another controller's view\): putting back 127\.0\.0\.31 127\.0\.0\.32/);
    expect((await c.status()).providers[0].corrections).toBe(1);
  });

  it('a wrong TSIG key: BIND refuses, the controller reports it (status, metrics) and changes nothing', async () => {
    await until('BIND as the previous test left it', async () => (await served()).length > 0);
    await bind.handEdit('resume', 'A', ['127.0.0.77'], 30);
    const wrong = join(dir, 'wrong.key');
    writeFileSync(wrong, readFileSync(bind.keyFile, 'utf8').replace(/secret "[^"]+"/, `secret "${Buffer.alloc(32, 7).toString('base64')}"`), { mode: 0o600 });
    const c = await startController({ DNS_TSIG_KEY_FILE: wrong });
    const failing = await until('the provider failing', async () => {
      const p = (await c.status()).providers[0];
      return p.state === 'failing' ? p : undefined;
    });
    expect(failing.lastError?.kind).toBe('auth');
    expect(await served()).toBe('127.0.0.77');
    expect(await (await fetch(`${c.url}/metrics`)).text()).toMatch(/vita_dns_provider_update_errors_total\{provider="rfc2136",kind="auth"\} [1-9]/);
    expect(c.output()).not.toContain(Buffer.alloc(32, 7).toString('base64'));
    expect(c.output()).not.toContain(readFileSync(bind.keyFile, 'utf8').match(/secret "([^"]+)"/)?.[1]);
  });

  it('a key file that cannot be read or parsed stops the process with one line naming it', async () => {
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'key "x" {\n  algorithm hmac-sha256;\n};\n');
    for (const [file, message] of [
      [join(dir, 'missing.key'), /^dns: DNS_TSIG_KEY_FILE: .*missing\.key cannot be read \(ENOENT\)$/m],
      [bad, /^dns: .*bad\.key:\d+: .*secret/m],
    ] as const) {
      const run = spawnSync(process.execPath, [join(dist, 'main.js')], {
        env: { PATH: process.env['PATH'] ?? '', DNS_NAME: NAME, DNS_NODES: 'node-a=127.0.0.31', DNS_RFC2136_SERVER: '127.0.0.1:53', DNS_TSIG_KEY_FILE: file, PORT: String(await freePort()) },
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(message);
    }
  });

  it('publishes to BIND and Route 53 (a local stand-in: AWS cannot be reached here) at once; BIND down holds back nothing on Route 53, and is caught up when it is back', async () => {
    const secret = 'standin-secret-0123456789abcdefghij';
    const standin = await startRoute53Standin({ zones: { Z0VITA0TEST: 'vita.test' }, accessKeyId: 'AKIDVITATEST0000001', secretAccessKey: secret, pendingMs: 200, maxPerSecond: 5 });
    const r53 = () => standin.recordSet('Z0VITA0TEST', NAME, 'A')?.values.slice().sort().join(' ') ?? '';
    let second: BindServer | undefined;
    try {
      // A BIND of its own, to stop half-way.
      second = await BindServer.start({ zone: 'vita.test' });
      const c = await startController({
        DNS_RFC2136_SERVER: `${second.address}:${second.port}`,
        DNS_TSIG_KEY_FILE: second.keyFile,
        DNS_ROUTE53_ZONE_ID: 'Z0VITA0TEST',
        DNS_ROUTE53_ENDPOINT: standin.endpoint,
        AWS_ACCESS_KEY_ID: 'AKIDVITATEST0000001',
        AWS_SECRET_ACCESS_KEY: secret,
      });
      const both = '127.0.0.31 127.0.0.32';
      await until('both on both providers', async () => (await (second as BindServer).lookup(NAME, 'A')).join(' ') === both && r53() === both);
      const { port, key } = second;
      await second.stop();
      await a.kill();
      await until('A gone from Route 53 with BIND down', () => r53() === '127.0.0.32');
      const failing = await until('BIND reported failing', async () => (await c.status()).providers.find((p) => p.provider === 'rfc2136' && p.state === 'failing'));
      expect(failing.lastError?.kind).toBe('unreachable');
      // BIND back on the same port, serving what it served when it stopped: the controller brings it up to date.
      second = await BindServer.start({ zone: 'vita.test', port, secret: key.secret, records: [{ name: 'resume', type: 'A', value: '127.0.0.31' }, { name: 'resume', type: 'A', value: '127.0.0.32' }] });
      await until('BIND caught up', async () => (await (second as BindServer).lookup(NAME, 'A')).join(' ') === '127.0.0.32', 30_000);
      expect(c.output()).not.toContain(secret);
    } finally {
      await second?.stop();
      await standin.close();
    }
  });

  it('the CLI drains a node (BIND answers without it when the command returns), shows it, and undrains it', async () => {
    const c = await startController({ DNS_AUDIT_LOG: join(dir, 'audit.jsonl') });
    await until('both in BIND', async () => (await served()) === '127.0.0.31 127.0.0.32');
    const noToken = cli(['drain', 'node-a', '--reason', 'kernel upgrade'], c.url, '');
    expect([noToken.status, noToken.stderr.trim()]).toEqual([1, expect.stringMatching(/^the dns controller answered 401: an admin token is required/)]);
    const noReason = cli(['drain', 'node-a'], c.url);
    expect([noReason.status, noReason.stderr.trim()]).toEqual([1, 'drain needs --reason "…" (it goes to the audit log)']);
    const drained = cli(['drain', 'node-a', '--reason', 'kernel upgrade'], c.url);
    expect(drained.status).toBe(0);
    expect(drained.stdout).toMatch(/drain node-a on here: done — withdrawn from rfc2136; safe to work on node-a after \S+ \(TTL 30 s \+ the 60 s browsers keep an answer\) \(reason: kernel upgrade\)/);
    expect(await served()).toBe('127.0.0.32');
    const status = cli(['status'], c.url);
    expect(status.status).toBe(2);
    expect(status.stdout).toMatch(/node-a\s+127\.0\.0\.31\s+withdrawn\s+drained: kernel upgrade \(here, \S+\)/);
    expect(cli(['undrain', 'node-a', '--reason', 'done'], c.url).status).toBe(0);
    expect(await served()).toBe('127.0.0.31 127.0.0.32');
    const audit = cli(['audit'], c.url);
    expect(audit.stdout.trim().split('\n').map((l) => l.split(' ').slice(1, 6).join(' '))).toEqual(['undrain node-a on here: done', 'undrain node-a on here: accepted', 'drain node-a on here: done', 'drain node-a on here: accepted']);
    expect(JSON.stringify(audit.stdout)).not.toContain(ADMIN_TOKEN);
  });
});
