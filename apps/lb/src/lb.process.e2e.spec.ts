import { sleep } from '@vita/mariadb';
import { DEV_ONLY_PACKAGES, installBundle, workspaceRoot } from '@vita/testing';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { backendsOf, cleanup, LbProcess, send, startLbProcess, TestBackend, waitFor } from './test/harness';

/** Whether a new TCP connection to the port is accepted. */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/**
 * lb as the image runs it: the bundle from `nx run lb:build` (the test target depends on it), as
 * real processes, with data-plane workers, signals and all.
 */
describe('lb processes (the built bundle)', () => {
  const dist = join(workspaceRoot(), 'dist', 'apps', 'lb');
  let a: TestBackend;
  let b: TestBackend;

  beforeAll(async () => {
    if (!existsSync(join(dist, 'main.js'))) throw new Error(`${dist} has no bundle: run \`npx nx run lb:build\``);
    [a, b] = await Promise.all([TestBackend.start('a'), TestBackend.start('b')]);
  });
  afterAll(cleanup);

  describe('with two workers', () => {
    let lb: LbProcess;
    beforeAll(async () => {
      lb = await startLbProcess(dist, { workers: 2, backends: backendsOf(a), healthCheck: { intervalMs: 200, timeoutMs: 200, jitter: 0 }, timeouts: { drainMs: 5000 } });
    });

    it('probes each backend once per interval, whatever the number of workers', async () => {
      const before = (await a.stats()).checks;
      await sleep(2000);
      const checks = (await a.stats()).checks - before;
      // 10 in 2 s from one prober; two workers probing separately would make 20.
      expect(checks).toBeGreaterThanOrEqual(8);
      expect(checks).toBeLessThanOrEqual(12);
      const stats = await lb.stats();
      expect(stats.workers).toBe(2);
      expect(stats.backends[0].check).toMatchObject({ ok: true, status: 200 });
    });

    it('serves from both workers and adds up their counters', async () => {
      const replies = await Promise.all(Array.from({ length: 40 }, () => send(`${lb.url}/both`)));
      expect(replies.every((r) => r.status === 200)).toBe(true);
      const metrics = await (await fetch(`${lb.admin}/metrics`)).text();
      expect(metrics.match(/^lb_process_resident_memory_bytes\{role="worker"/gm)).toHaveLength(2);
      expect((await lb.stats()).backends[0].total).toBe(40);
    });

    it('SIGHUP: a bad configuration is refused and the old one kept; a good one reaches every worker', async () => {
      lb.writeConfig({ workers: 2, backends: [{ name: 'a', url: a.url, weight: 'heavy' }] });
      lb.child.kill('SIGHUP');
      const failed = await waitFor('the reload to fail', async () => (await lb.stats()).config.lastReloadError ?? undefined);
      expect(failed).toContain('backends[0].weight: must be an integer number');
      expect((await send(`${lb.url}/kept`)).status).toBe(200);

      lb.writeConfig({ workers: 2, backends: backendsOf(b), healthCheck: { intervalMs: 200, timeoutMs: 200, jitter: 0 }, timeouts: { drainMs: 5000 } });
      lb.child.kill('SIGHUP');
      await waitFor('the new backend list', async () => ((await lb.stats()).backends.map((s) => s.name).join() === 'b' ? true : undefined));
      const replies = await Promise.all(Array.from({ length: 10 }, () => send(`${lb.url}/moved`)));
      expect(replies.map((r) => r.headers['x-backend'])).toEqual(Array(10).fill('b'));
    });

    it('replaces a worker that dies, and keeps serving meanwhile', async () => {
      const workerPids = async () => [...(await (await fetch(`${lb.admin}/metrics`)).text()).matchAll(/^lb_process_resident_memory_bytes\{role="worker",pid="(\d+)"\}/gm)].map((m) => Number(m[1]));
      const [victim, survivor] = await workerPids();
      process.kill(victim, 'SIGKILL');
      await sleep(100);
      const replies = await Promise.all(Array.from({ length: 10 }, () => send(`${lb.url}/meanwhile`)));
      expect(replies.every((r) => r.status === 200)).toBe(true);
      const now = await waitFor('a replacement worker', async () => {
        const pids = await workerPids();
        return pids.length === 2 && !pids.includes(victim) ? pids : undefined;
      }, 10_000);
      expect(now).toContain(survivor);
      expect((await lb.stats()).workers).toBe(2);
    });

    it('SIGTERM: stops accepting, finishes in-flight requests, then exits 0', async () => {
      const slow = send(`${lb.url}/slow?ms=1500`);
      await waitFor('the slow request to be in flight', async () => ((await b.stats()).paths['/slow'] ? true : undefined));
      lb.child.kill('SIGTERM');
      await waitFor('lb to stop accepting connections', async () => ((await accepts(lb.port)) ? undefined : true), 2000);
      expect((await fetch(`${lb.admin}/health/ready`)).status).toBe(503);
      const reply = await slow;
      expect([reply.status, reply.body]).toEqual([200, 'b slow']);
      expect(await lb.exited).toBe(0);
    });
  });

  describe('the image contents (production dependencies only)', () => {
    let bundle: { dir: string; remove(): void };
    beforeAll(() => {
      bundle = installBundle('lb');
    }, 300_000);
    afterAll(() => bundle?.remove());

    it('holds the runtime dependencies and the entry points, none of the build tools', () => {
      for (const dep of ['http-proxy', '@nestjs/core', '@nestjs/platform-fastify', 'pino', 'yaml', 'class-validator']) expect(existsSync(join(bundle.dir, 'node_modules', dep))).toBe(true);
      for (const tool of DEV_ONLY_PACKAGES) expect(existsSync(join(bundle.dir, 'node_modules', tool))).toBe(false);
      for (const entry of ['main.js', 'worker.js', 'healthcheck.js']) expect(existsSync(join(bundle.dir, entry))).toBe(true);
    });

    it('refuses to start without backends, in one line naming the setting', () => {
      const run = spawnSync(process.execPath, ['main.js'], { cwd: bundle.dir, env: { PATH: process.env['PATH'] }, encoding: 'utf8', timeout: 30_000 });
      expect(run.status).toBe(1);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(/^lb: invalid configuration \(defaults\): backends: must list at least one backend/);
    });

    it('takes its backends from LB_BACKENDS, and its HEALTHCHECK script follows it', async () => {
      const lb = await startLbProcess(bundle.dir, {}, { LB_BACKENDS: `web1=${a.url}` });
      expect((await lb.stats()).backends.map((s) => s.name)).toEqual(['web1']);
      const env = { PATH: process.env['PATH'], LB_CONFIG: lb.configFile, LB_BACKENDS: `web1=${a.url}` };
      expect((await send(`${lb.url}/image`)).status).toBe(200);
      expect(spawnSync(process.execPath, ['healthcheck.js'], { cwd: bundle.dir, env }).status).toBe(0);
      lb.child.kill('SIGTERM');
      expect(await lb.exited).toBe(0);
      expect(spawnSync(process.execPath, ['healthcheck.js'], { cwd: bundle.dir, env }).status).toBe(1);
    });
  });
});
