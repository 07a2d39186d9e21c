import { BindServer } from '@vita/bind';
import { dnsEnv } from '@vita/stack';
import { freePort, workspaceRoot } from '@vita/testing';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, has } from '../lib/args';
import { PageNode } from './page-node';

/**
 * How long DNS failover takes with the dns controller's default timing: from a content node's death
 * to its A record gone from BIND's answers, and from its return to the record back. A real BIND on
 * loopback, the built controller (dist/apps/dns/main.js) publishing to it over RFC 2136 + TSIG, two
 * page servers per scenario on 127.0.0.x. Two scenarios run side by side, each with its own name,
 * controller and nodes: node A dies (connections refused), and node A hangs (accepts, never answers).
 * Usage: node -r ./tools/register.js tools/bench/dns/bench.ts [--trials 5] [--poll-ms 100] [--no-build]
 */

// The controller's defaults (apps/dns/src/app/config/env.ts); the controller is started with none of them set.
const DEFAULTS = { intervalMs: 2000, timeoutMs: 1500, fall: 3, rise: 3, minHoldMs: 20_000, ttl: 60 };
const TARGET_MS = 8000;
// Route 53's documented defaults for a health check (RequestInterval 30 s, FailureThreshold 3); not measured here.
const ROUTE53 = { intervalS: 30, threshold: 3 };
const ZONE = 'vita.test';
const WAIT_LIMIT_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s = (ms: number) => (ms / 1000).toFixed(2);

interface Scenario {
  name: 'dead' | 'hung';
  label: string;
  fqdn: string;
  a: PageNode;
  b: PageNode;
  controller?: ChildProcess;
  log: string;
  withdrawn: number[];
  back: number[];
  /** Per trial: what was left of the minimum hold when A came back (the floor of its return). */
  holdLeft: number[];
}

/** Everything started, stopped in reverse order (on success, error or Ctrl-C). */
const cleanups: Array<() => Promise<void> | void> = [];
let cleaning: Promise<void> | null = null;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch((e: Error) => console.error(`cleanup: ${e.message}`));
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping everything…`);
    void cleanup().finally(() => process.exit(130));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The A records BIND answers for `fqdn` right now (asked directly: no recursion, no cache). */
async function answers(bind: BindServer, fqdn: string): Promise<string[]> {
  const resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([`${bind.address}:${bind.port}`]);
  try {
    return (await resolver.resolve4(fqdn)).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    throw e;
  } finally {
    resolver.cancel();
  }
}

/** Polls BIND every `pollMs` until `done(answer)`; returns when it was first seen (performance.now()). Bounded. */
async function seen(bind: BindServer, fqdn: string, pollMs: number, what: string, done: (a: string[]) => boolean): Promise<number> {
  const deadline = performance.now() + WAIT_LIMIT_MS;
  let last: string[] = [];
  while (performance.now() < deadline) {
    last = await answers(bind, fqdn).catch(() => last);
    if (done(last)) return performance.now();
    await sleep(pollMs);
  }
  throw new Error(`${what}: not seen in BIND within ${WAIT_LIMIT_MS / 1000} s (it answers ${last.join(', ') || 'nothing'})`);
}

async function startController(root: string, dir: string, bind: BindServer, sc: Scenario): Promise<ChildProcess> {
  const port = await freePort();
  const env = dnsEnv({
    name: sc.fqdn,
    nodes: [sc.a, sc.b].map((n) => ({ node: n.name, address: n.address })),
    probePort: sc.a.port,
    vantage: 'bench',
    host: '127.0.0.1',
    port,
    bind: { address: bind.address, port: bind.port, zone: ZONE, keyFile: bind.keyFile },
    peerToken: randomBytes(18).toString('base64url'),
    adminToken: randomBytes(18).toString('base64url'),
    stateFile: join(dir, `${sc.name}-state.json`),
    auditLog: join(dir, `${sc.name}-audit.jsonl`),
    extra: { LOG_LEVEL: 'warn' },
  });
  const fd = openSync(sc.log, 'a');
  const child = spawn(process.execPath, [join(root, 'dist', 'apps', 'dns', 'main.js')], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  cleanups.push(() => stopChild(child));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    if ((await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0)) === 200) return child;
    await sleep(100);
  }
  throw new Error(`the ${sc.name} controller on ${url} did not become ready; its log:\n${readFileSync(sc.log, 'utf8').slice(-2000)}`);
}

/** One trial: A fails (dies or hangs) at a random point of the probe cycle; timed until withdrawn, then revived and timed until back. */
async function trial(bind: BindServer, sc: Scenario, i: number, pollMs: number): Promise<void> {
  const both = [sc.a.address, sc.b.address].sort().join(' ');
  await seen(bind, sc.fqdn, pollMs, `${sc.fqdn}: both nodes published`, (a) => a.join(' ') === both);
  await sleep(Math.random() * DEFAULTS.intervalMs);
  const failedAt = performance.now();
  if (sc.name === 'dead') await sc.a.kill();
  else sc.a.hang();
  const goneAt = await seen(bind, sc.fqdn, pollMs, `${sc.fqdn}: ${sc.a.name} withdrawn`, (a) => !a.includes(sc.a.address) && a.includes(sc.b.address));
  const revivedAt = performance.now();
  await sc.a.revive();
  const backAt = await seen(bind, sc.fqdn, pollMs, `${sc.fqdn}: ${sc.a.name} back`, (a) => a.join(' ') === both);
  sc.withdrawn.push(goneAt - failedAt);
  sc.back.push(backAt - revivedAt);
  sc.holdLeft.push(Math.max(0, DEFAULTS.minHoldMs - (revivedAt - goneAt)));
  console.log(`  ${sc.label.padEnd(36)} trial ${i}: withdrawn ${s(goneAt - failedAt).padStart(6)} s after the failure, back ${s(backAt - revivedAt).padStart(6)} s after its return`);
}

interface Summary {
  min: number;
  median: number;
  max: number;
}
function summary(values: number[]): Summary {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], median, max: sorted[sorted.length - 1] };
}

async function main(): Promise<void> {
  const trials = flag('trials', 5);
  const pollMs = flag('poll-ms', 100);
  if (!Number.isInteger(trials) || trials < 1 || trials > 100) throw new Error('--trials needs a whole number from 1 to 100');
  if (pollMs < 10 || pollMs > 1000) throw new Error('--poll-ms needs a number from 10 to 1000');
  const root = workspaceRoot();
  if (!has('no-build')) {
    console.log('building dns…');
    if (spawnSync('npx', ['nx', 'build', 'dns', '--outputStyle=static'], { cwd: root, stdio: 'ignore', env: { ...process.env, NX_DAEMON: 'false' } }).status !== 0) throw new Error('npx nx build dns failed');
  }
  const dir = mkdtempSync(join(tmpdir(), 'vita-bench-dns-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const bind = await BindServer.start({ zone: ZONE });
  cleanups.push(() => bind.stop());
  const port = await freePort();
  const node = (name: string, last: number) => new PageNode(name, `127.0.0.${last}`, port);
  const scenarios: Scenario[] = [
    { name: 'dead', label: 'node dies (connections refused)', fqdn: `dead.${ZONE}`, a: node('node-a', 31), b: node('node-b', 32), log: join(dir, 'dns-dead.log'), withdrawn: [], back: [], holdLeft: [] },
    { name: 'hung', label: 'node hangs (accepts, never answers)', fqdn: `hung.${ZONE}`, a: node('node-a', 33), b: node('node-b', 34), log: join(dir, 'dns-hung.log'), withdrawn: [], back: [], holdLeft: [] },
  ];
  for (const sc of scenarios) {
    for (const n of [sc.a, sc.b]) {
      await n.revive();
      cleanups.push(() => n.kill());
    }
  }
  for (const sc of scenarios) sc.controller = await startController(root, dir, bind, sc);

  console.log(
    `\nBIND ${bind.address}#${bind.port} (zone ${ZONE}); one dns controller per scenario, default timing: probe every ${DEFAULTS.intervalMs} ms (timeout ${DEFAULTS.timeoutMs} ms), ` +
      `fall ${DEFAULTS.fall}, rise ${DEFAULTS.rise}, minimum hold ${DEFAULTS.minHoldMs / 1000} s, TTL ${DEFAULTS.ttl} s; BIND polled every ${pollMs} ms; ${trials} trial${trials === 1 ? '' : 's'} per scenario, both scenarios at once\n`,
  );
  await Promise.all(
    scenarios.map(async (sc) => {
      for (let i = 1; i <= trials; i++) await trial(bind, sc, i, pollMs);
    }),
  );
  for (const sc of scenarios) if (sc.controller?.exitCode !== null) throw new Error(`the ${sc.name} controller exited during the run; its log:\n${readFileSync(sc.log, 'utf8').slice(-2000)}`);

  const route53Ms = ROUTE53.threshold * ROUTE53.intervalS * 1000;
  // Detection takes from (fall − 1) × interval (the failure just before a probe) to fall × interval (just after one), plus the timeout when each failed probe waits it out.
  const bounds = (sc: Scenario) => {
    const extra = sc.name === 'hung' ? DEFAULTS.timeoutMs : 0;
    return { least: (DEFAULTS.fall - 1) * DEFAULTS.intervalMs + extra, most: DEFAULTS.fall * DEFAULTS.intervalMs + extra, name: sc.name === 'hung' ? 'fall × interval + timeout' : 'fall × interval' };
  };
  const col = 52;
  console.log(`\n${`seconds, ${trials} trial${trials === 1 ? '' : 's'} each`.padEnd(col + 2)} ${'min'.padStart(6)} ${'median'.padStart(6)} ${'max'.padStart(6)}   ratios of the median (max)`);
  for (const sc of scenarios) {
    const w = summary(sc.withdrawn);
    const b = bounds(sc);
    console.log(
      `  ${`${sc.label}: withdrawn`.padEnd(col)} ${s(w.min).padStart(6)} ${s(w.median).padStart(6)} ${s(w.max).padStart(6)}   ` +
        `${(w.median / TARGET_MS).toFixed(2)}× (${(w.max / TARGET_MS).toFixed(2)}×) the target ${TARGET_MS / 1000} s — ${w.max <= TARGET_MS ? 'met' : 'NOT met'}; ` +
        `${(w.median / b.most).toFixed(2)}× (${(w.max / b.most).toFixed(2)}×) ${b.name} = ${s(b.most)} s (detection alone: ${s(b.least)}–${s(b.most)} s)`,
    );
  }
  for (const sc of scenarios) {
    const b = summary(sc.back);
    const hold = summary(sc.holdLeft);
    console.log(
      `  ${`${sc.label}: back`.padEnd(col)} ${s(b.min).padStart(6)} ${s(b.median).padStart(6)} ${s(b.max).padStart(6)}   ` +
        `${(b.median / hold.median).toFixed(2)}× the minimum hold left when it returned (median ${s(hold.median)} s); no target`,
    );
  }
  console.log(`
What these are: the time until BIND's own answer changes. Visitors' resolvers and browsers keep an answer for
up to the TTL (${DEFAULTS.ttl} s) and browsers for at least 60 s; that comes on top and is not measured here.
Detection: a failure is seen by the first probe after it (up to one interval later) and the node is withdrawn
after ${DEFAULTS.fall} failed probes in a row: (fall − 1) × interval to fall × interval, plus the probe timeout when it hangs;
then one RFC 2136 update to BIND.
Return: A is revived as soon as its withdrawal is seen, so the minimum hold (${DEFAULTS.minHoldMs / 1000} s from the withdrawal)
is what its return waits for; rise × interval (${s(DEFAULTS.rise * DEFAULTS.intervalMs)} s) is over well before.
Reference, not measured: Route 53 health checks with their documented defaults (request interval ${ROUTE53.intervalS} s,
failure threshold ${ROUTE53.threshold}) judge an endpoint unhealthy after about ${ROUTE53.threshold} × ${ROUTE53.intervalS} s = ${route53Ms / 1000} s, and healthy again after as
many good checks; the measured median withdrawal (dead node) is ${(summary(scenarios[0].withdrawn).median / route53Ms).toFixed(2)}× that.`);
}

main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
