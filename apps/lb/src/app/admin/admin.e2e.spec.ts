import { backendsOf, cleanup, send, startTestLb, TestBackend, TestLb, waitFor } from '../../test/harness';

const TOKEN = 'admin-token-for-tests-0123456789';

describe('lb admin plane', () => {
  let a: TestBackend;
  let b: TestBackend;
  let lb: TestLb;
  const setState = (name: string, state: unknown, token: string | null = TOKEN) =>
    send(`${lb.admin}/backends/${name}/state`, {
      method: 'POST',
      body: JSON.stringify({ state }),
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    });

  beforeAll(async () => {
    [a, b] = await Promise.all([TestBackend.start('a'), TestBackend.start('b')]);
    lb = await startTestLb({ backends: backendsOf(a, b), healthCheck: { intervalMs: 100, timeoutMs: 100, jitter: 0 } }, { LB_ADMIN_TOKEN: TOKEN });
    await Promise.all(Array.from({ length: 4 }, () => send(`${lb.url}/warm`)));
  });
  afterAll(async () => {
    await lb.stop();
    await cleanup();
  });

  it('reports per-backend state, checks, counters and latency as JSON', async () => {
    const stats = await lb.stats();
    expect(stats).toMatchObject({ algorithm: 'round-robin', workers: 1, draining: false, config: { lastReloadError: null }, frontend: { total: 4, responses: { '2xx': 4 } } });
    expect(stats.backends).toHaveLength(2);
    expect(stats.backends[0]).toMatchObject({
      name: 'a',
      url: a.url,
      status: 'UP',
      health: 'up',
      admin: 'ready',
      weight: 1,
      total: 2,
      active: 0,
      responses: { '2xx': 2 },
      errors: { connect: 0, reset: 0, stale: 0, timeout: 0, http5xx: 0, protocol: 0 },
      check: { ok: true, status: 200 },
    });
    expect(stats.backends[0].latency.count).toBe(2);
    expect(stats.backends[0].latency.p99Ms).toBeGreaterThan(0);
    expect(Date.parse(stats.backends[0].lastChange)).not.toBeNaN();
  });

  it('serves a human-readable page and Prometheus metrics named after HAProxy’s exporter', async () => {
    const page = await send(`${lb.admin}/`);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('<td><b>a</b>');
    expect(page.body).toContain(b.url);

    const metrics = await send(`${lb.admin}/metrics`);
    expect(metrics.headers['content-type']).toContain('text/plain; version=0.0.4');
    for (const line of [
      'lb_server_status{server="a",state="UP"} 1',
      'lb_server_status{server="a",state="DOWN"} 0',
      'lb_server_sessions_total{server="b"} 2',
      'lb_server_http_responses_total{server="a",code="2xx"} 2',
      'lb_server_response_time_seconds_count{server="a"} 2',
      'lb_frontend_http_requests_total 4',
      'lb_backend_active_servers 2',
      '# TYPE lb_server_response_time_seconds histogram',
    ]) {
      expect(metrics.body).toContain(line);
    }
    expect(metrics.body).toMatch(/^lb_process_resident_memory_bytes\{role="primary",pid="\d+"\} \d+$/m);
  });

  it('guards state changes with the admin token and validates them', async () => {
    expect((await setState('a', 'drain', null)).status).toBe(401);
    expect((await setState('a', 'drain', 'wrong-token-0123456789')).status).toBe(403);
    const invalid = await setState('a', 'sleep');
    expect(invalid.status).toBe(400);
    expect(invalid.body).toContain('state must be one of: ready, drain, maint');
    expect((await setState('nope', 'drain')).status).toBe(404);
    expect((await lb.stats()).backends[0].admin).toBe('ready');
  });

  it('drain and maint take a backend out of rotation at run time; ready brings it back', async () => {
    const drained = await setState('a', 'drain');
    expect(drained.status).toBe(200);
    expect(JSON.parse(drained.body)).toMatchObject({ name: 'a', status: 'DRAIN', admin: 'drain' });
    const replies = await Promise.all(Array.from({ length: 6 }, () => send(`${lb.url}/drained`)));
    expect(replies.map((r) => r.headers['x-backend'])).toEqual(Array(6).fill('b'));

    expect((await setState('a', 'maint')).status).toBe(200);
    const checks = (await a.stats()).checks;
    await new Promise((r) => setTimeout(r, 400));
    // No health checks while in maintenance.
    expect((await a.stats()).checks).toBe(checks);

    expect(JSON.parse((await setState('a', 'ready')).body)).toMatchObject({ status: 'UP', admin: 'ready' });
    await waitFor('a to take requests again', async () => ((await send(`${lb.url}/back`)).headers['x-backend'] === 'a' ? true : undefined), 3000);
  });

  it('is live while it runs, ready only while some backend is up', async () => {
    expect((await send(`${lb.admin}/health/live`)).status).toBe(200);
    const ready = await send(`${lb.admin}/health/ready`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ status: 'ok', checks: [{ name: 'backends', ok: true, detail: { up: ['a', 'b'] } }] });
    await Promise.all([a.kill(), b.kill()]);
    await waitFor('readiness to fail', async () => ((await send(`${lb.admin}/health/ready`)).status === 503 ? true : undefined), 3000);
    expect((await send(`${lb.admin}/health/live`)).status).toBe(200);
    expect((await send(`${lb.url}/`)).status).toBe(503);
  });
});
