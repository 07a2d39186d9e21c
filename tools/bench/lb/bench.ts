import { workspaceRoot } from '@vita/testing';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, has } from '../lib/args';
import { cpuPerOperation, formatCpu, rssMiB, sleep, totalRss } from '../lib/processes';
import { compareRounds, requireLoopback, requireWrk, runWrk } from '../lib/wrk';
import { summarizeProfiles } from './profile';
import { lbToHaproxy, pct, startStack, type Proxy, type Stack } from './stack';
import { benchTls, makeCertificate } from './tls';

/**
 * lb against HAProxy (Debian's package) with the same job: round-robin over two Node backends on
 * loopback with HTTP health checks, keep-alive both sides, X-Forwarded-* and a request id added;
 * HAProxy gets as many threads as lb has workers. 64 connections, 1 KiB responses, interleaved
 * rounds, medians (and the ratio in each round, for its spread); then a soak of lb alone reporting
 * its memory over time. With --tls, the same over HTTPS with one ECDSA P-256 certificate for both
 * (tls.ts): keep-alive requests/s, and new connections/s each with a full handshake.
 *
 * node -r ./tools/register.js tools/bench/lb/bench.ts [--rounds 3] [--seconds 10] [--connections 64]
 *   [--workers 2] [--soak 60] [--access-log] [--profile] [--no-build]
 *   [--tls [--handshake-connections 16] [--clients 2]]   (with --tls, --seconds is 8 and --soak 0 unless given)
 */

/** Plain HTTP: requests/s and p99 against HAProxy's, CPU per request, memory. */
function benchPlain(stack: Stack, rounds: number, seconds: number, connections: number, workers: number): void {
  console.log(`GET 1 KiB through each, ${connections} connections, keep-alive, wrk -t2; ${rounds} interleaved rounds of ${seconds} s\n`);
  const comparison = compareRounds(
    [
      { name: `HAProxy (${workers} thread${workers > 1 ? 's' : ''})`, url: stack.haproxy.url },
      { name: `lb (${workers} worker${workers > 1 ? 's' : ''})`, url: stack.lb.url },
      { name: 'one backend, direct', url: stack.direct },
    ],
    rounds,
    { connections, seconds },
  );
  const [h, l, direct] = comparison.medians;

  // CPU per request: robust to the noise of other load on the machine.
  const perRequest = (p: Proxy) => formatCpu(cpuPerOperation([p.pids], () => runWrk(p.url, { connections, seconds: 5 }).requestsPerSecond * 5)[0]);
  console.log(`\nCPU per request (proxy processes only): HAProxy ${perRequest(stack.haproxy)}, lb ${perRequest(stack.lb)}`);
  const r = lbToHaproxy(comparison);
  console.log(`\nlb / HAProxy in each round: ${r.eachRound}`);
  console.log(`lb / HAProxy: requests/s ${pct(r.rps)} (target ≥ 80%), p99 ${r.p99.toFixed(2)}× (target ≤ 1.5×)${r.rps >= 0.8 && r.p99 <= 1.5 ? ' — met' : ' — NOT met'}`);
  console.log(`(direct to one backend: ${direct.requestsPerSecond.toFixed(0)} req/s; errors: HAProxy ${h.errors}, lb ${l.errors})`);
}

/** lb alone under the same load for `seconds`, its RSS sampled: a leak keeps raising the late samples. */
async function soak(lb: Proxy, seconds: number, connections: number): Promise<void> {
  requireLoopback(lb.url);
  console.log(`\nsoak: lb under the same load for ${seconds} s, RSS of all its processes:`);
  const wrk = spawn('wrk', ['-t', '2', '-c', String(connections), '-d', `${seconds}s`, lb.url], { stdio: 'ignore' });
  const wrkDone = new Promise((r) => wrk.once('exit', r));
  const step = Math.max(1, Math.round(seconds / 12));
  const samples: number[] = [];
  for (let t = 0; t < seconds; t += step) {
    await sleep(step * 1000);
    samples.push(await totalRss(lb.pids));
    console.log(`  ${String(t + step).padStart(4)} s  ${samples[samples.length - 1].toFixed(1)} MiB`);
  }
  await wrkDone;
  // V8 grows and shrinks its heap in steps, so single samples jump: compare the highest RSS of the
  // first and the last third of the soak (after a warm-up sample). A leak keeps raising the last.
  const settled = samples.slice(1);
  const third = Math.max(1, Math.floor(settled.length / 3));
  const early = Math.max(...settled.slice(0, third));
  const late = Math.max(...settled.slice(-third));
  console.log(
    `  after warm-up: ${Math.min(...settled).toFixed(1)}–${Math.max(...settled).toFixed(1)} MiB; highest in the first third ${early.toFixed(1)} MiB, in the last third ${late.toFixed(1)} MiB (${(((late - early) / early) * 100).toFixed(1)}%)`,
  );
}

async function main(): Promise<void> {
  const tls = has('tls');
  const rounds = flag('rounds', 3);
  const seconds = flag('seconds', tls ? 8 : 10);
  const connections = flag('connections', 64);
  const workers = flag('workers', 2);
  const soakSeconds = flag('soak', tls ? 0 : 60);
  requireWrk();
  if (spawnSync('haproxy', ['-v']).error) throw new Error('haproxy not found: install it with `apt-get install -y haproxy` (as root)');
  const root = workspaceRoot();
  const home = mkdtempSync(join(tmpdir(), 'vita-bench-lb-'));
  if (!has('no-build')) {
    console.log('building lb…');
    if (spawnSync('npx', ['nx', 'run', 'lb:build'], { cwd: root, stdio: 'ignore', env: { ...process.env, NX_DAEMON: 'false' } }).status !== 0) throw new Error('lb build failed');
  }
  const profileDir = has('profile') ? join(home, 'profiles') : undefined;
  if (profileDir !== undefined) mkdirSync(profileDir);
  const accessLog = has('access-log') ? join(home, 'access.log') : 'off';
  let stack: Stack | undefined;
  try {
    const certificate = tls ? await makeCertificate(join(home, 'pki')) : undefined;
    stack = await startStack(root, home, { workers, accessLog, profileDir, tls: certificate });
    console.log(`\nHAProxy ${spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0].split(' ')[2]} nbthread ${workers}; lb ${workers} worker(s), access log ${accessLog === 'off' ? 'off' : 'on (file)'}; Node ${process.version}`);
    if (certificate === undefined) benchPlain(stack, rounds, seconds, connections, workers);
    else await benchTls(stack, certificate, { rounds, seconds, connections, workers, handshakeConnections: flag('handshake-connections', 16), clients: flag('clients', 2) });
    console.log(`RSS after the rounds: HAProxy ${(await totalRss(stack.haproxy.pids)).toFixed(0)} MiB, lb ${(await totalRss(stack.lb.pids)).toFixed(0)} MiB (${stack.lb.pids.length} processes), each backend ${(await rssMiB(stack.backends[0].pid)).toFixed(0)} MiB`);

    if (soakSeconds > 0) await soak(stack.lb, soakSeconds, connections);

    if (profileDir !== undefined) {
      const lb = stack.lb.process;
      const exited = new Promise((r) => lb.once('exit', r));
      lb.kill('SIGTERM');
      await exited;
      console.log(`\nwhere lb's data plane spends its time (--cpu-prof of ${workers > 1 ? 'the workers' : 'the process'}, whole run):`);
      console.log(summarizeProfiles(profileDir, workers > 1 ? stack.lb.pids.slice(1) : stack.lb.pids));
    }
  } finally {
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
