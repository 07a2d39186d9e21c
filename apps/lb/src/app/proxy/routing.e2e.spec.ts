import { sleep } from '@vita/mariadb';
import { Agent } from 'node:http';
import { backendsOf, cleanup, FAST_CHECKS, send, startTestLb, TestBackend, TestLb, waitFor } from '../../test/harness';

describe('lb routing (real backend processes on loopback)', () => {
  let a: TestBackend;
  let b: TestBackend;
  const running: TestLb[] = [];
  const lbWith = async (settings: Record<string, unknown>) => {
    const lb = await startTestLb(settings);
    running.push(lb);
    return lb;
  };

  beforeAll(async () => {
    [a, b] = await Promise.all([TestBackend.start('a'), TestBackend.start('b')]);
  });
  afterAll(async () => {
    await Promise.all(running.map((l) => l.stop()));
    await cleanup();
  });

  const servedBy = async () => ({ a: (await a.stats()).paths, b: (await b.stats()).paths });

  it('shares requests by weight (smooth weighted round-robin)', async () => {
    const lb = await lbWith({ backends: [{ name: 'a', url: a.url, weight: 3 }, { name: 'b', url: b.url, weight: 1 }] });
    const replies = await Promise.all(Array.from({ length: 40 }, () => send(`${lb.url}/weighted`)));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    expect(replies.filter((r) => r.headers['x-backend'] === 'a')).toHaveLength(30);
    const served = await servedBy();
    expect([served.a['/weighted'], served.b['/weighted']]).toEqual([30, 10]);
    const stats = await lb.stats();
    expect(stats.backends.map((s) => [s.name, s.total, s.responses['2xx']])).toEqual([['a', 30, 30], ['b', 10, 10]]);
  });

  it('least-outstanding sends new requests to the idle backend', async () => {
    const lb = await lbWith({ algorithm: 'least-outstanding', backends: backendsOf(a, b) });
    const slow = send(`${lb.url}/slow?ms=1500`);
    const busy = await waitFor('the slow request to reach a backend', async () => {
      const s = await servedBy();
      return s.a['/slow'] ? 'a' : s.b['/slow'] ? 'b' : undefined;
    });
    const quick: string[] = [];
    for (let i = 0; i < 10; i++) quick.push((await send(`${lb.url}/quick`)).headers['x-backend'] as string);
    expect(quick).toEqual(Array(10).fill(busy === 'a' ? 'b' : 'a'));
    expect((await slow).status).toBe(200);
  });

  it('loses no request when a backend dies under load; marks it down in time, back after rise, then ramps it up', async () => {
    const slowStartMs = 2000;
    const lb = await lbWith({ backends: backendsOf(a, b), healthCheck: FAST_CHECKS, slowStartMs, passive: { maxFailures: 0 } });
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    const failures: string[] = [];
    let running = true;
    let sent = 0;
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        sent++;
        await send(`${lb.url}/steady`, { agent }).then(
          (r) => r.status !== 200 && failures.push(`status ${r.status}`),
          (err: Error) => failures.push(err.message),
        );
        await sleep(2);
      }
    });
    const status = async (name: string) => (await lb.stats()).backends.find((s) => s.name === name);
    try {
      await sleep(300);
      const killedAt = Date.now();
      await b.kill();
      await waitFor('b to be marked down', async () => ((await status('b'))?.status === 'DOWN' ? true : undefined), 3000);
      const downAfter = Date.now() - killedAt;
      // fall × interval, plus the check timeout, plus scheduling slack
      expect(downAfter).toBeLessThanOrEqual(FAST_CHECKS.fall * FAST_CHECKS.intervalMs + FAST_CHECKS.timeoutMs + 300);
      await sleep(300);

      const restartedAt = Date.now();
      await b.start();
      const back = await waitFor('b to be up again', async () => {
        const s = await status('b');
        return s?.status === 'UP' ? s : undefined;
      }, 3000);
      const upAfter = Date.now() - restartedAt;
      expect(back.lastChangeReason).toBe('2 check(s) passed');
      expect(upAfter).toBeGreaterThanOrEqual((FAST_CHECKS.rise - 1) * FAST_CHECKS.intervalMs - 50);
      expect(upAfter).toBeLessThanOrEqual(FAST_CHECKS.rise * FAST_CHECKS.intervalMs + FAST_CHECKS.timeoutMs + 300);

      // Slow start: b's share of new requests grows from a few percent to half.
      const totals = async () => {
        const s = await lb.stats();
        return s.backends.map((x) => x.total);
      };
      const share = async (ms: number) => {
        const [a0, b0] = await totals();
        await sleep(ms);
        const [a1, b1] = await totals();
        return (b1 - b0) / (a1 - a0 + b1 - b0);
      };
      const early = await share(400);
      await sleep(slowStartMs - 400);
      const late = await share(600);
      expect(early).toBeLessThan(0.25);
      expect(late).toBeGreaterThan(0.4);
    } finally {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    }
    expect(sent).toBeGreaterThan(200);
    expect(failures).toEqual([]);
    const stats = await lb.stats();
    expect(stats.backends[1].retries + stats.backends[1].errors.connect + stats.backends[1].errors.reset).toBeGreaterThan(0);
  }, 30_000);

  it('takes a backend out after consecutive 5xx (passive check) until its health checks bring it back', async () => {
    const lb = await lbWith({ backends: backendsOf(a, b), healthCheck: FAST_CHECKS, passive: { maxFailures: 3 }, slowStartMs: 0 });
    // a and b alternate: a's three 503s in a row come within six requests.
    for (let i = 0; i < 6; i++) await send(`${lb.url}/status/503`);
    const down = await waitFor('a backend to be taken out', async () => (await lb.stats()).backends.find((s) => s.status === 'DOWN'));
    expect(down.lastChangeReason).toMatch(/^passive check: 3 failed requests in a row, the last: http5xx \(status 503\)$/);
    expect(down.errors.http5xx).toBe(3);
    // Its /health/ready still answers 200: after `rise` checks it is back.
    const back = await waitFor('it to come back', async () => {
      const s = (await lb.stats()).backends.find((x) => x.name === down.name);
      return s?.status === 'UP' ? s : undefined;
    }, 3000);
    expect(back.lastChangeReason).toBe('2 check(s) passed');
  });

  it('retries a GET whose pooled connection the backend had closed, but not a POST', async () => {
    const dropper = await TestBackend.start('dropper', { dropReused: true });
    const lb = await lbWith({ backends: backendsOf(dropper) });
    expect((await send(`${lb.url}/one`)).status).toBe(200);
    // The pooled connection is reused and dropped by the backend: retried on a fresh one.
    const get = await send(`${lb.url}/two`);
    expect(get.status).toBe(200);
    const afterGet = await lb.stats();
    expect(afterGet.backends[0]).toMatchObject({ status: 'UP', retries: 1, errors: { stale: 1 } });
    // Same again with a POST: not retried, 502, and the backend saw it once.
    const post = await send(`${lb.url}/three`, { method: 'POST', body: 'payload', headers: { 'Content-Type': 'text/plain' } });
    expect(post.status).toBe(502);
    expect(post.body).toMatch(/^Bad Gateway/);
    expect(await dropper.stats()).toMatchObject({ posts: 1, dropped: 2 });
    expect((await lb.stats()).backends[0]).toMatchObject({ retries: 1, errors: { stale: 2 } });
  });

  it('drops pooled connections the backend closes while idle, without an error', async () => {
    const brief = await TestBackend.start('brief', { keepAliveMs: 150 });
    const lb = await lbWith({ backends: backendsOf(brief), timeouts: { upstreamIdleMs: 60_000 } });
    for (let i = 0; i < 3; i++) {
      expect((await send(`${lb.url}/idle`)).status).toBe(200);
      await sleep(300);
    }
    expect((await lb.stats()).backends[0]).toMatchObject({ retries: 0, errors: { stale: 0, reset: 0 } });
  });

  it('answers 503 with Retry-After when every backend is down', async () => {
    const lb = await lbWith({ backends: [{ name: 'gone', url: 'http://127.0.0.1:9' }], healthCheck: FAST_CHECKS });
    await waitFor('the backend to be down', async () => ((await lb.stats()).backends[0].status === 'DOWN' ? true : undefined));
    const reply = await send(`${lb.url}/`);
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('1');
    expect(reply.body).toMatch(/^Service Unavailable/);
    expect(reply.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect((await lb.stats()).frontend.noBackend).toBe(1);
  });

  it('answers 504 when the backend is too slow, 502 when it cannot be reached', async () => {
    const doomed = await TestBackend.start('doomed');
    const lb = await lbWith({
      backends: [{ name: 'a', url: a.url }, { name: 'doomed', url: doomed.url }],
      timeouts: { responseMs: 300 },
      healthCheck: { intervalMs: 60_000 },
      passive: { maxFailures: 0 },
    });
    const started = Date.now();
    const slow = await send(`${lb.url}/slow?ms=3000`);
    expect(slow.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(1500);
    // Not retried: a timeout may mean the backend is still working on it.
    expect((await lb.stats()).backends.reduce((n, s) => n + s.total, 0)).toBe(1);

    await doomed.kill();
    await lbWithOnly(lb, 'doomed');
    const refused = await send(`${lb.url}/`);
    expect(refused.status).toBe(502);
    const stats = await lb.stats();
    expect(stats.backends[1].errors.connect).toBeGreaterThanOrEqual(1);
    expect(stats.backends[1].errors.timeout + stats.backends[0].errors.timeout).toBe(1);
  });

  /** Puts every backend but `name` in maintenance, so the next request can only go to `name`. */
  async function lbWithOnly(lb: TestLb, name: string): Promise<void> {
    for (const s of (await lb.stats()).backends) if (s.name !== name) lb.lb.control.setAdmin(s.name, 'maint');
  }

  it('holds requests in a bounded queue at maxconn, and answers 503 when it overflows or times out', async () => {
    const lb = await lbWith({ backends: [{ name: 'a', url: a.url, maxconn: 1 }], queue: { max: 1, timeoutMs: 400 } });
    const first = send(`${lb.url}/slow?ms=1200`);
    await waitFor('the first request to be in flight', async () => ((await lb.stats()).backends[0].active === 1 ? true : undefined));
    const queued = send(`${lb.url}/slow?ms=10`);
    await waitFor('the second request to be queued', async () => ((await lb.stats()).frontend.queued === 1 ? true : undefined));
    const overflow = await send(`${lb.url}/slow?ms=10`);
    expect(overflow.status).toBe(503);
    expect((await queued).status).toBe(503);
    expect((await first).status).toBe(200);
    expect((await lb.stats()).frontend).toMatchObject({ queueFull: 1, queueTimeouts: 1, queued: 0 });

    // A queued request goes as soon as the slot frees.
    const both = await Promise.all([send(`${lb.url}/slow?ms=150`), send(`${lb.url}/slow?ms=150`)]);
    expect(both.map((r) => r.status)).toEqual([200, 200]);
  });

  it('keeps the running configuration when a reload is bad, and applies a good one without dropping connections', async () => {
    const lb = await lbWith({ backends: backendsOf(a) });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await send(`${lb.url}/reload`, { agent });
    lb.writeConfig({ backends: [{ name: 'a', url: a.url }, { name: 'b', url: 'ftp://nowhere' }] });
    expect(lb.lb.reload()).toBe(false);
    let stats = await lb.stats();
    expect(stats.config.lastReloadError).toContain('backends[1].url: must be an http URL');
    expect(stats.backends.map((s) => s.name)).toEqual(['a']);
    expect((await send(`${lb.url}/reload`, { agent })).status).toBe(200);

    lb.writeConfig({ backends: [{ name: 'a', url: a.url }, { name: 'b', url: b.url }] });
    expect(lb.lb.reload()).toBe(true);
    stats = await lb.stats();
    expect(stats.config.lastReloadError).toBeNull();
    expect(stats.backends.map((s) => s.name)).toEqual(['a', 'b']);
    const after = await Promise.all([send(`${lb.url}/reload`, { agent }), send(`${lb.url}/reload`, { agent })]);
    expect(new Set(after.map((r) => r.headers['x-backend']))).toEqual(new Set(['a', 'b']));
    // The client's keep-alive connection carried on through both reloads.
    expect(after.map((r) => r.localPort)).toEqual([before.localPort, before.localPort]);
    agent.destroy();
  });
});
