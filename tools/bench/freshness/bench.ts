import { startTopology, TestTopology, freePort, sampleResume, workspaceRoot } from '@vita/testing';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, has } from '../lib/args';
import { percentile } from '../lib/stats';

/**
 * How long a write takes to be on the page of every web instance: the push design (defaults) beside
 * the polling design (API_PUSH=off, CACHE_TTL_MS=1000, the api checking every 500 ms), both running
 * at once over the same primary and replica, so each write is timed on both.
 * Usage: node -r ./tools/register.js tools/bench/freshness/bench.ts [--writes 60] [--webs 2] [--poll-ms 5] [--no-build]
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secret = (): string => randomBytes(18).toString('base64url');

interface Proc {
  name: string;
  url: string;
  child: ChildProcess;
}

/** Spawns a built bundle on loopback and waits (bounded) for its /health/ready. */
async function startBundle(root: string, logs: string, app: 'api' | 'web', env: Record<string, string>): Promise<Proc> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const fd = openSync(join(logs, `${app}-${port}.log`), 'a');
  const child = spawn(process.execPath, [join(root, 'dist', 'apps', app, 'main.js')], {
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ACCESS_LOG_SAMPLE: '0', ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    if ((await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0)) === 200) return { name: `${app} :${port}`, url, child };
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${app} on ${url} did not become ready (see ${logs})`);
}

async function stopAll(procs: Proc[]): Promise<void> {
  await Promise.all(
    procs.map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
          const timer = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
          p.child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          p.child.kill('SIGTERM');
        }),
    ),
  );
}

function apiCommand(root: string, script: string, env: Record<string, string>): void {
  const run = spawnSync(process.execPath, [join(root, 'dist', 'apps', 'api', script)], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`api ${script} failed: ${(run.stderr || run.stdout).trim()}`);
}

interface Figures {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}
function figures(values: number[]): Figures {
  const sorted = [...values].sort((x, y) => x - y);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] };
}

/** Polls a page until it contains `text` (bounded); returns the time it was first seen. */
async function seenAt(url: string, text: string, pollMs: number, limitMs: number): Promise<number> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    const body = await fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => '');
    if (body.includes(text)) return performance.now();
    await sleep(pollMs);
  }
  throw new Error(`"${text}" not on ${url} after ${limitMs} ms`);
}

async function main(): Promise<void> {
  const writes = flag('writes', 60);
  const webCount = flag('webs', 2);
  const pollMs = flag('poll-ms', 5);
  if (writes < 1 || webCount < 1) throw new Error('--writes and --webs need at least 1');
  const root = workspaceRoot();
  if (!has('no-build')) {
    console.log('building api and web…');
    if (spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', 'api,web'], { cwd: root, stdio: 'ignore' }).status !== 0) throw new Error('build failed');
  }
  const logs = mkdtempSync(join(tmpdir(), 'vita-bench-freshness-'));
  const procs: Proc[] = [];
  let topology: TestTopology | undefined;
  try {
    topology = await startTopology({ replicas: 1 });
    const { primary, replicas } = topology;
    const logins = { DB_NAME: 'vita', DB_WRITE_HOST: `${primary.host}:${primary.port}`, DB_READ_USER: 'vita_reader', DB_READ_PASSWORD: secret(), DB_WRITE_USER: 'vita_writer', DB_WRITE_PASSWORD: secret() };
    const migrator = { DB_MIGRATE_USER: 'vita_migrator', DB_MIGRATE_PASSWORD: secret() };
    apiCommand(root, 'provision.js', { ...logins, ...migrator, DB_ADMIN_SOCKET: primary.socketPath, DB_USER_HOST: '127.0.0.1' });
    apiCommand(root, 'migrate.js', { ...logins, ...migrator });
    await topology.waitForReplicas();
    const token = secret();
    const apiEnv = { ...logins, DB_READ_HOSTS: `replica@${replicas[0].host}:${replicas[0].port},primary@${primary.host}:${primary.port}`, VITA_ADMIN_TOKEN: token };

    interface Design {
      name: string;
      api: Record<string, string>;
      web: Record<string, string>;
    }
    const designs: Design[] = [
      { name: 'push (defaults)', api: {}, web: {} },
      { name: 'polling (push off, TTL 1 s, api 500 ms)', api: { DB_CHECK_INTERVAL_MS: '500', DB_VERSION_INTERVAL_MS: '500' }, web: { API_PUSH: 'off', CACHE_TTL_MS: '1000' } },
    ];
    const started: (Design & { apis: Proc[]; webs: Proc[] })[] = [];
    for (const design of designs) {
      const apis = await Promise.all([0, 1].map(() => startBundle(root, logs, 'api', { ...apiEnv, ...design.api })));
      procs.push(...apis);
      started.push({ ...design, apis, webs: [] });
    }
    const put = async (label: string) => {
      const res = await fetch(`${started[0].apis[0].url}/api/v1/resume`, {
        method: 'PUT',
        body: JSON.stringify({ ...sampleResume(), basics: { ...sampleResume().basics, label } }),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status !== 200) throw new Error(`PUT answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { version: number }).version;
    };
    /** When an api first serves `version` (its ETag), polled like the pages. */
    const apiSeenAt = async (url: string, version: number): Promise<number> => {
      const deadline = performance.now() + 10_000;
      while (performance.now() < deadline) {
        const etag = await fetch(`${url}/api/v1/resume`, { signal: AbortSignal.timeout(2000) }).then((r) => r.headers.get('etag'), () => null);
        if (etag === `"v${version}"`) return performance.now();
        await sleep(pollMs);
      }
      throw new Error(`${url} does not serve v${version} after 10 s`);
    };
    await put('Bench Warm-up');
    await sleep(1500);
    for (const design of started) {
      design.webs = await Promise.all(Array.from({ length: webCount }, () => startBundle(root, logs, 'web', { API_URLS: design.apis.map((a) => a.url).join(','), ...design.web })));
      procs.push(...design.webs);
    }
    await sleep(1000);

    console.log(`\n${writes} writes; after each, every page of ${webCount} web instances per design polled every ${pollMs} ms\n`);
    const fromAnswer = started.map(() => [] as number[]);
    const fromStart = started.map(() => [] as number[]);
    const apiAnswer: number[] = [];
    for (let i = 1; i <= writes; i++) {
      const label = `Bench Write ${i} ${randomBytes(4).toString('hex')}`;
      const putStart = performance.now();
      const version = await put(label);
      const putEnd = performance.now();
      const apisSeen = Promise.all(started[0].apis.map((a) => apiSeenAt(a.url, version)));
      const seen = await Promise.all(started.map((d) => Promise.all(d.webs.map((w) => seenAt(w.url, label, pollMs, 10_000)))));
      apiAnswer.push(Math.max(...(await apisSeen)) - putEnd);
      seen.forEach((times, d) => {
        const last = Math.max(...times);
        fromAnswer[d].push(last - putEnd);
        fromStart[d].push(last - putStart);
      });
      if (i % 10 === 0) console.log(`  ${i} writes: last ${started.map((d, k) => `${d.name.split(' ')[0]} ${fromAnswer[k][i - 1].toFixed(0)} ms`).join(', ')}`);
      // Writes land at random points of the polling cycle.
      await sleep(100 + Math.random() * 400);
    }

    const row = (name: string, f: Figures) =>
      `  ${name.padEnd(44)} ${f.p50.toFixed(0).padStart(6)} ${f.p95.toFixed(0).padStart(6)} ${f.p99.toFixed(0).padStart(6)} ${f.max.toFixed(0).padStart(6)}`;
    const results = started.map((d, k) => ({ name: d.name, answer: figures(fromAnswer[k]), start: figures(fromStart[k]) }));
    for (const [title, key] of [['from the PUT’s answer', 'answer'], ['from the PUT’s start', 'start']] as const) {
      console.log(`\nwrite visible on every web instance, ${title} (ms):`);
      console.log(`  ${'design'.padEnd(44)} ${'p50'.padStart(6)} ${'p95'.padStart(6)} ${'p99'.padStart(6)} ${'max'.padStart(6)}`);
      for (const r of results) console.log(row(r.name, r[key]));
    }
    console.log(`\n${row('(push design: both apis serve it, from the answer)', figures(apiAnswer))}`);
    const [pushed, polled] = results;
    console.log(`\npolling / push: p50 ${(polled.answer.p50 / pushed.answer.p50).toFixed(1)}×, p99 ${(polled.answer.p99 / pushed.answer.p99).toFixed(1)}×`);
    console.log(`push p99 ${pushed.answer.p99.toFixed(0)} ms (target ≤ 300 ms) — ${pushed.answer.p99 <= 300 ? 'met' : 'not met'}`);
  } finally {
    await stopAll(procs);
    await topology?.close();
    rmSync(logs, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
