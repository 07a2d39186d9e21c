import type { LbBackendStats } from '@vita/contracts';
import { sleep } from '@vita/mariadb';
import { freePort, sampleResume, workspaceRoot } from '@vita/testing';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { cleanup, LbProcess, send, startLbProcess, waitFor } from './test/harness';

/** The bound for the failure path: no GET slower than this while a web instance hangs. */
const SLOWEST_MS = 3000;

/** A web instance from its bundle (`nx run web:build`; lb's test target depends on it). */
class WebInstance {
  private output = '';
  private constructor(
    readonly name: string,
    readonly url: string,
    readonly child: ChildProcess,
  ) {
    const keep = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-4000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static async start(name: string, script: string, apiUrl: string): Promise<WebInstance> {
    const port = await freePort();
    const env = { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', API_URLS: apiUrl };
    const web = new WebInstance(name, `http://127.0.0.1:${port}`, spawn(process.execPath, [script], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
    await waitFor(`${name} to be ready`, async () => {
      if (!web.running) throw new Error(`${name} exited (${web.child.exitCode ?? web.child.signalCode}):\n${web.output}`);
      return (await fetch(`${web.url}/health/ready`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status, () => 0)) === 200 ? true : undefined;
    }, 30_000);
    return web;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    if (this.running) this.child.kill(signal);
  }

  /** Lets it go on if it was stopped, then kills it. */
  async kill(): Promise<void> {
    if (!this.running) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGCONT');
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** A stand-in api: the sample résumé with an ETag (web asks for it about once a second). */
function startApi(): Promise<Server> {
  const body = JSON.stringify(sampleResume());
  const server = createServer((req, res) => {
    if (req.url !== '/api/v1/resume') return void res.writeHead(404).end();
    if (req.headers['if-none-match'] === '"v1"') return void res.writeHead(304, { etag: '"v1"' }).end();
    res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' }).end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * Issue 9, part 2, as it was found: lb (the built bundle, two workers, default checks and timeouts)
 * in front of two real web instances under a steady load of GETs; one web instance is stopped
 * (SIGSTOP: it hangs with its sockets open) and let go again.
 */
describe('a hung web instance under load (lb and web processes)', () => {
  const dist = join(workspaceRoot(), 'dist', 'apps');
  let api: Server;
  let webs: WebInstance[] = [];
  let lb: LbProcess;

  beforeAll(async () => {
    for (const app of ['lb', 'web']) if (!existsSync(join(dist, app, 'main.js'))) throw new Error(`${join(dist, app)} has no bundle: run \`npx nx run ${app}:build\``);
    api = await startApi();
    const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
    webs = await Promise.all(['web1', 'web2'].map((name) => WebInstance.start(name, join(dist, 'web', 'main.js'), apiUrl)));
    lb = await startLbProcess(join(dist, 'lb'), { workers: 2, backends: webs.map((w) => ({ name: w.name, url: w.url })) });
    await waitFor('both web instances checked', async () => ((await lb.stats()).backends.every((s) => s.check?.ok) ? true : undefined));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(webs.map((w) => w.kill()));
    await cleanup();
    api?.closeAllConnections();
    await new Promise((r) => (api ? api.close(r) : r(undefined)));
  });

  it('SIGSTOP of one web instance: no GET fails, none takes 3 s; SIGCONT: it comes back through its rise checks', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const failures: string[] = [];
    const durations: number[] = [];
    let running = true;
    // Eight clients, one GET of the page at a time each, as long as the test runs (bounded below).
    const loops = Array.from({ length: 8 }, async () => {
      while (running) {
        const started = performance.now();
        await send(`${lb.url}/`, { agent, timeoutMs: 10_000 }).then(
          (r) => r.status !== 200 && failures.push(`status ${r.status}: ${r.body.slice(0, 80)}`),
          (err: Error) => failures.push(err.message),
        );
        durations.push(performance.now() - started);
        await sleep(5);
      }
    });
    const web2 = async (): Promise<LbBackendStats> => (await lb.stats()).backends.find((s) => s.name === 'web2') as LbBackendStats;
    let down: LbBackendStats;
    let back: LbBackendStats;
    let servedAfter: number;
    try {
      await sleep(1000);
      webs[1].signal('SIGSTOP');
      down = await waitFor('web2 to be taken out', async () => {
        const s = await web2();
        return s.status === 'DOWN' ? s : undefined;
      }, 8000);
      // Long enough for the active check to take it out too, had the passive one not.
      await sleep(3000);
      webs[1].signal('SIGCONT');
      back = await waitFor('web2 to come back', async () => {
        const s = await web2();
        return s.status === 'UP' ? s : undefined;
      }, 8000);
      const total = back.total;
      // Slow start: a small share of the requests at first, but some.
      servedAfter = await waitFor('web2 to serve again', async () => {
        const s = await web2();
        return s.total > total && s.responses['2xx'] > 0 ? s.total - total : undefined;
      }, 5000);
    } finally {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    }
    expect(failures).toEqual([]);
    expect(durations.length).toBeGreaterThan(200);
    expect(Math.max(...durations)).toBeLessThan(SLOWEST_MS);
    // Requests were waiting on web2 when it hung, and were moved (not failed, not waited out).
    expect(down.retries).toBeGreaterThan(0);
    expect(down.lastChangeReason).toMatch(/^(passive check: \d+ failed requests in a row, the last: timeout \(no response head within 2000 ms\)|check failed: .*)$/);
    expect(back.lastChangeReason).toBe('2 check(s) passed');
    expect(servedAfter).toBeGreaterThan(0);
  }, 60_000);
});
