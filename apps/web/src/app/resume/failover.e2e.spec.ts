import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadEnv } from '@vita/runtime';
import { RunningStack, startStack } from '@vita/stack';
import { freePort, sampleResume, workspaceRoot } from '@vita/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWeb } from '../bootstrap';
import { WebEnv } from '../config/env';

/** web over two real api processes, a replica and a primary (the api bundle is built by the test target's dependency). */
describe('web keeps serving through api failures', () => {
  const home = mkdtempSync(join(tmpdir(), 'vita-web-failover-'));
  let stack: RunningStack;
  let web: NestFastifyApplication;
  const page = () => web.inject({ method: 'GET', url: '/' });

  beforeAll(async () => {
    const [primaryPort, replicaPort, a, b] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    stack = await startStack({ root: workspaceRoot(), home, primaryPort, replicaPort, apiPorts: [a, b], build: false, say: () => undefined });
    web = await createWeb(
      loadEnv(WebEnv, { LOG_LEVEL: 'silent', API_URLS: stack.apis.map((s) => s.url).join(','), API_TIMEOUT_MS: '500', CACHE_TTL_MS: '1000' }),
    );
    await web.init();
  }, 120_000);
  afterAll(async () => {
    await web?.close();
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  async function publish(label: string): Promise<void> {
    const doc = { ...sampleResume(), basics: { ...sampleResume().basics, label } };
    const alive = stack.apis.find((s) => s.running)!;
    const res = await fetch(`${alive.url}/api/v1/resume`, {
      method: 'PUT',
      body: JSON.stringify(doc),
      headers: { authorization: `Bearer ${stack.secrets.VITA_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
  }

  /** Polls the page until it shows `label`; returns how long that took. */
  async function timeUntilShown(label: string, limitMs: number): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < limitMs) {
      const res = await page();
      expect(res.statusCode).toBe(200);
      if (res.body.includes(label)) return Date.now() - started;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`"${label}" not on the page after ${limitMs} ms`);
  }

  it('an update through the api shows on the page within the TTL plus replication time', async () => {
    expect((await page()).body).toContain('Site Reliability Engineer');
    await publish('Staff Engineer');
    // TTL 1 s + the api's 0.5 s version check + replication (milliseconds here).
    expect(await timeUntilShown('Staff Engineer', 3000)).toBeLessThan(3000);
  });

  it('one api instance killed: every page request is still 200 with fresh data', async () => {
    await stack.apis[0].kill();
    for (let i = 0; i < 30; i++) {
      const res = await page();
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-vita-stale']).toBeUndefined();
    }
    await publish('Principal Engineer');
    await timeUntilShown('Principal Engineer', 3000);
  });

  it('every api instance killed: 200 with the last good copy and x-vita-stale', async () => {
    await stack.apis[1].kill();
    await new Promise((r) => setTimeout(r, 1100));
    const res = await page();
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('Principal Engineer');
    expect(Number(res.headers['x-vita-stale'])).toBeGreaterThanOrEqual(1);
  });
});
