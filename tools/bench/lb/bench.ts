import { freePort, workspaceRoot } from '@vita/testing';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rssMiB, startScript } from '../lib/processes';
import { compare, requireWrk, runWrk } from '../lib/wrk';
import { summarizeProfiles } from './profile';
import { flag, has } from '../lib/args';

/**
 * lb against HAProxy (Debian's package) with the same job: round-robin over two Node backends on
 * loopback with HTTP health checks, keep-alive both sides, X-Forwarded-* and a request id added;
 * HAProxy gets as many threads as lb has workers. 64 connections, 1 KiB responses, interleaved
 * rounds, medians; then a soak of lb alone reporting its memory over time.
 *
 * node -r ./tools/register.js tools/bench/lb/bench.ts [--rounds 3] [--seconds 10] [--connections 64]
 *   [--workers 2] [--soak 60] [--access-log] [--profile] [--no-build]
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const answers200 = (url: string) => fetch(url).then((r) => r.status === 200, () => false);

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** A process and its children (lb's workers), from /proc. */
function processTree(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return [pid, ...children.flatMap(processTree)];
}

/** CPU time of processes in clock ticks of 10 ms: in user space and in the kernel (system calls, TCP). */
const cpuTicks = (pids: number[]) =>
  pids.reduce(
    (sum, pid) => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return { user: sum.user + Number(fields[11]), system: sum.system + Number(fields[12]) };
    },
    { user: 0, system: 0 },
  );

const totalRss = async (pids: number[]) => (await Promise.all(pids.map(rssMiB))).reduce((a, b) => a + b, 0);

function haproxyConfig(threads: number, port: number, backends: number[]): string {
  return `global
  nbthread ${threads}
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 5s
  option http-keep-alive
  retries 3
  option redispatch
frontend fe
  bind 127.0.0.1:${port}
  option forwardfor
  unique-id-format %{+X}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  http-request set-header X-Request-Id %[unique-id]
  http-response set-header X-Request-Id %[unique-id]
  default_backend be
backend be
  balance roundrobin
  option httpchk GET /health/ready
  http-check expect status 200
  default-server check inter 1s fall 2 rise 2 maxconn 256
${backends.map((p, i) => `  server b${i + 1} 127.0.0.1:${p}`).join('\n')}
`;
}

async function main(): Promise<void> {
  const rounds = flag('rounds', 3);
  const seconds = flag('seconds', 10);
  const connections = flag('connections', 64);
  const workers = flag('workers', 2);
  const soakSeconds = flag('soak', 60);
  requireWrk();
  if (spawnSync('haproxy', ['-v']).error) throw new Error('haproxy not found: install it with `apt-get install -y haproxy` (as root)');
  const root = workspaceRoot();
  const home = mkdtempSync(join(tmpdir(), 'vita-bench-lb-'));
  if (!has('no-build')) {
    console.log('building lb…');
    if (spawnSync('npx', ['nx', 'run', 'lb:build'], { cwd: root, stdio: 'ignore', env: { ...process.env, NX_DAEMON: 'false' } }).status !== 0) throw new Error('lb build failed');
  }

  const [b1, b2, haproxyPort, lbPort, adminPort] = await Promise.all(Array.from({ length: 5 }, () => freePort()));
  const children: ChildProcess[] = [];
  const profileDir = join(home, 'profiles');
  try {
    for (const port of [b1, b2]) children.push(await startScript(root, 'tools/bench/lb/backend.ts', [String(port)]));

    writeFileSync(join(home, 'haproxy.cfg'), haproxyConfig(workers, haproxyPort, [b1, b2]));
    const haproxy = spawn('haproxy', ['-db', '-f', join(home, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(haproxy);
    await waitUntil('HAProxy did not serve', () => answers200(`http://127.0.0.1:${haproxyPort}/`));

    const accessLog = has('access-log') ? join(home, 'access.log') : 'off';
    writeFileSync(
      join(home, 'lb.json'),
      JSON.stringify({ listen: `127.0.0.1:${lbPort}`, admin: { listen: `127.0.0.1:${adminPort}` }, workers, logLevel: 'warn', accessLog: { to: accessLog }, backends: [b1, b2].map((p, i) => ({ name: `b${i + 1}`, url: `http://127.0.0.1:${p}` })) }),
    );
    if (has('profile')) mkdirSync(profileDir);
    const nodeArgs = has('profile') ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const lb = spawn(process.execPath, [...nodeArgs, join(root, 'dist', 'apps', 'lb', 'main.js')], { env: { PATH: process.env['PATH'], LB_CONFIG: join(home, 'lb.json') }, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(lb);
    await waitUntil('lb did not become ready', () => answers200(`http://127.0.0.1:${adminPort}/health/ready`));
    const lbPids = processTree(lb.pid as number);
    const haproxyPids = [haproxy.pid as number];

    console.log(`\nGET 1 KiB through each, ${connections} connections, keep-alive, wrk -t2; ${rounds} interleaved rounds of ${seconds} s`);
    console.log(`HAProxy ${spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0].split(' ')[2]} nbthread ${workers}; lb ${workers} worker(s), access log ${accessLog === 'off' ? 'off' : 'on (file)'}; Node ${process.version}\n`);
    const [h, l, direct] = compare(
      [
        { name: `HAProxy (${workers} thread${workers > 1 ? 's' : ''})`, url: `http://127.0.0.1:${haproxyPort}/` },
        { name: `lb (${workers} worker${workers > 1 ? 's' : ''})`, url: `http://127.0.0.1:${lbPort}/` },
        { name: 'one backend, direct', url: `http://127.0.0.1:${b1}/` },
      ],
      rounds,
      { connections, seconds },
    );

    // CPU per request: robust to the noise of other load on the machine.
    const perRequest = (url: string, pids: number[]) => {
      const before = cpuTicks(pids);
      const r = runWrk(url, { connections, seconds: 5 });
      const after = cpuTicks(pids);
      const us = (ticks: number) => (ticks * 10_000) / (r.requestsPerSecond * 5);
      const [user, system] = [us(after.user - before.user), us(after.system - before.system)];
      return `${(user + system).toFixed(1)} µs (user ${user.toFixed(1)}, kernel ${system.toFixed(1)})`;
    };
    const hapCpu = perRequest(`http://127.0.0.1:${haproxyPort}/`, haproxyPids);
    const lbCpu = perRequest(`http://127.0.0.1:${lbPort}/`, lbPids);
    console.log(`\nCPU per request (proxy processes only): HAProxy ${hapCpu}, lb ${lbCpu}`);
    console.log(`RSS after the rounds: HAProxy ${(await totalRss(haproxyPids)).toFixed(0)} MiB, lb ${(await totalRss(lbPids)).toFixed(0)} MiB (${lbPids.length} processes), each backend ${(await rssMiB(children[0].pid)).toFixed(0)} MiB`);
    const rpsRatio = l.requestsPerSecond / h.requestsPerSecond;
    const p99Ratio = l.p99Ms / h.p99Ms;
    console.log(`\nlb / HAProxy: requests/s ${(rpsRatio * 100).toFixed(0)}% (target ≥ 80%), p99 ${p99Ratio.toFixed(2)}× (target ≤ 1.5×)${rpsRatio >= 0.8 && p99Ratio <= 1.5 ? ' — met' : ' — NOT met'}`);
    console.log(`(direct to one backend: ${direct.requestsPerSecond.toFixed(0)} req/s; errors: HAProxy ${h.errors}, lb ${l.errors})`);

    if (soakSeconds > 0) {
      console.log(`\nsoak: lb under the same load for ${soakSeconds} s, RSS of all its processes:`);
      const wrk = spawn('wrk', ['-t', '2', '-c', String(connections), '-d', `${soakSeconds}s`, `http://127.0.0.1:${lbPort}/`], { stdio: 'ignore' });
      const wrkDone = new Promise((r) => wrk.once('exit', r));
      const step = Math.max(1, Math.round(soakSeconds / 12));
      const samples: number[] = [];
      for (let t = 0; t < soakSeconds; t += step) {
        await sleep(step * 1000);
        samples.push(await totalRss(lbPids));
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

    if (has('profile')) {
      const exited = new Promise((r) => lb.once('exit', r));
      lb.kill('SIGTERM');
      await exited;
      console.log(`\nwhere lb's data plane spends its time (--cpu-prof of ${workers > 1 ? 'the workers' : 'the process'}, whole run):`);
      console.log(summarizeProfiles(profileDir, workers > 1 ? lbPids.slice(1) : lbPids));
    }
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await sleep(500);
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
