import { sleep } from '@vita/mariadb';
import { backendsOf, cleanup, FAST_CHECKS, Reply, send, startTestLb, TestBackend, TestLb, waitFor } from '../../test/harness';

/** A reply and how long it took. */
const timed = async (pending: Promise<Reply>): Promise<Reply & { ms: number }> => {
  const started = performance.now();
  const reply = await pending;
  return { ...reply, ms: performance.now() - started };
};

/**
 * A backend that hangs (SIGSTOP: its connections and listening socket stay open, nothing answers)
 * costs a client nothing: idempotent bodiless requests waiting on it for a response head go to
 * another backend when it is taken out or when `timeouts.firstByteMs` passes; a request with a body
 * never does.
 */
describe('lb and a hung backend (real backend processes on loopback)', () => {
  let a: TestBackend;
  let b: TestBackend;
  const running: TestLb[] = [];
  /** lb, once its first check of every backend has passed (a new backend's first failure takes it out). */
  const lbWith = async (settings: Record<string, unknown>) => {
    const lb = await startTestLb(settings);
    running.push(lb);
    await waitFor('the first checks to pass', async () => ((await lb.stats()).backends.every((s) => s.check?.ok) ? true : undefined));
    return lb;
  };
  const backend = async (lb: TestLb, name: string) => (await lb.stats()).backends.find((s) => s.name === name);

  beforeAll(async () => {
    [a, b] = await Promise.all([TestBackend.start('a'), TestBackend.start('b')]);
  });
  // Every test lets b go on; this is for a test that failed half-way.
  afterEach(() => b.signal('SIGCONT'));
  afterAll(async () => {
    b.signal('SIGCONT');
    await Promise.all(running.map((l) => l.stop()));
    await cleanup();
  });

  it('moves the GETs waiting on a backend at once when its health check takes it out (no time-to-first-byte limit)', async () => {
    const lb = await lbWith({ backends: backendsOf(a, b), healthCheck: FAST_CHECKS, timeouts: { firstByteMs: 0 }, passive: { maxFailures: 0 }, slowStartMs: 0 });
    b.signal('SIGSTOP');
    // Round-robin: half of them go to b and hang there until b is taken out (fall × interval + timeout).
    const replies = await Promise.all(Array.from({ length: 10 }, () => timed(send(`${lb.url}/waiting`, { timeoutMs: 8000 }))));
    expect(replies.map((r) => [r.status, r.headers['x-backend']])).toEqual(Array(10).fill([200, 'a']));
    // Without the move they would wait for timeouts.responseMs (30 s).
    expect(Math.max(...replies.map((r) => r.ms))).toBeLessThan(FAST_CHECKS.fall * FAST_CHECKS.intervalMs + FAST_CHECKS.timeoutMs + 1500);
    const down = await backend(lb, 'b');
    expect(down).toMatchObject({ status: 'DOWN', retries: 5, active: 0, errors: { timeout: 0, reset: 0 } });
    expect(down?.lastChangeReason).toMatch(/^check failed: no answer within 200 ms$/);
    expect((await backend(lb, 'a'))?.total).toBe(10);

    b.signal('SIGCONT');
    const back = await waitFor('b to come back', async () => {
      const s = await backend(lb, 'b');
      return s?.status === 'UP' ? s : undefined;
    }, 5000);
    expect(back.lastChangeReason).toBe('2 check(s) passed');
    expect((await send(`${lb.url}/again`)).status).toBe(200);
  });

  it('never re-sends a POST or any request with a body: they stay on the backend taken out, while a GET beside them moves', async () => {
    const lb = await lbWith({ backends: backendsOf(a, b), healthCheck: FAST_CHECKS, timeouts: { firstByteMs: 0, responseMs: 2500 }, passive: { maxFailures: 0 }, slowStartMs: 0 });
    // Only b takes requests while they are sent.
    lb.lb.control.setAdmin('a', 'maint');
    b.signal('SIGSTOP');
    const before = await a.stats();
    const body = { body: 'payload', headers: { 'Content-Type': 'text/plain' }, timeoutMs: 8000 };
    const post = timed(send(`${lb.url}/echo`, { method: 'POST', ...body }));
    const put = timed(send(`${lb.url}/echo`, { method: 'PUT', ...body }));
    const get = timed(send(`${lb.url}/echo`, { timeoutMs: 8000 }));
    await waitFor('the three requests to wait on b', async () => ((await backend(lb, 'b'))?.active === 3 ? true : undefined));
    lb.lb.control.setAdmin('a', 'ready');
    await waitFor('b to be taken out by its checks', async () => ((await backend(lb, 'b'))?.status === 'DOWN' ? true : undefined), 3000);

    const [p, u, g] = await Promise.all([post, put, get]);
    expect([g.status, g.headers['x-backend'], JSON.parse(g.body).method]).toEqual([200, 'a', 'GET']);
    expect(g.ms).toBeLessThan(2000);
    // The POST and the PUT waited on b until timeouts.responseMs: a never saw them.
    expect([p.status, u.status]).toEqual([504, 504]);
    expect(Math.min(p.ms, u.ms)).toBeGreaterThanOrEqual(2400);
    const after = await a.stats();
    expect([after.posts - before.posts, (after.paths['/echo'] ?? 0) - (before.paths['/echo'] ?? 0)]).toEqual([0, 1]);
    expect((await backend(lb, 'b'))).toMatchObject({ retries: 1, total: 3, errors: { timeout: 2 } });
  });

  it('moves a GET that has no response head within timeouts.firstByteMs, charging the slow backend a passive failure; three in a row take it out and the rest move', async () => {
    const lb = await lbWith({ backends: backendsOf(a, b), healthCheck: { intervalMs: 60_000 }, timeouts: { firstByteMs: 400 }, passive: { maxFailures: 3 }, slowStartMs: 0 });
    b.signal('SIGSTOP');
    const pair = await Promise.all([timed(send(`${lb.url}/late`)), timed(send(`${lb.url}/late`))]);
    expect(pair.map((r) => [r.status, r.headers['x-backend']])).toEqual([[200, 'a'], [200, 'a']]);
    const moved = Math.max(...pair.map((r) => r.ms));
    expect(moved).toBeGreaterThanOrEqual(400);
    expect(moved).toBeLessThan(1500);
    expect(await backend(lb, 'b')).toMatchObject({ status: 'UP', retries: 1, errors: { timeout: 1 } });

    // Three more reach b, late in separate sweeps (one failure per backend per sweep): the second
    // and third failures in a row take b out (passive check), and the one still waiting moves with
    // no failure charged.
    const six = await Promise.all(Array.from({ length: 6 }, (_, i) => sleep(i * 100).then(() => timed(send(`${lb.url}/late`)))));
    expect(six.map((r) => [r.status, r.headers['x-backend']])).toEqual(Array(6).fill([200, 'a']));
    expect(Math.max(...six.map((r) => r.ms))).toBeLessThan(1500);
    const down = await backend(lb, 'b');
    expect(down).toMatchObject({ status: 'DOWN', retries: 4, active: 0, errors: { timeout: 3 } });
    expect(down?.lastChangeReason).toBe('passive check: 3 failed requests in a row, the last: timeout (no response head within 400 ms)');
  });

  it('charges only the hung backend: requests moved off it are not late on the healthy ones, and a burst late in one sweep is one failure', async () => {
    const c = await TestBackend.start('c');
    const lb = await lbWith({ backends: backendsOf(a, b, c), healthCheck: { intervalMs: 60_000 }, timeouts: { firstByteMs: 400 }, passive: { maxFailures: 3 }, slowStartMs: 0 });
    b.signal('SIGSTOP');
    // Waves of concurrent GETs: each wave's share of b is late together.
    for (let wave = 0; wave < 4; wave++) {
      const replies = await Promise.all(Array.from({ length: 30 }, () => send(`${lb.url}/late`)));
      expect(replies.map((r) => r.status)).toEqual(Array(30).fill(200));
      expect(new Set(replies.map((r) => r.headers['x-backend']))).toEqual(new Set(['a', 'c']));
    }
    const stats = await lb.stats();
    const of = (name: string) => stats.backends.find((s) => s.name === name);
    expect(of('b')).toMatchObject({ status: 'DOWN', errors: { timeout: 3 } });
    for (const healthy of ['a', 'c']) expect(of(healthy)).toMatchObject({ status: 'UP', errors: { timeout: 0 } });
  });

  it('moves a slow GET once, to a backend it has not tried, and waits there; the first backend sees it cancelled; a slow POST is not moved', async () => {
    const lb = await lbWith({ backends: backendsOf(a, b), timeouts: { firstByteMs: 300 }, passive: { maxFailures: 0 } });
    const before = { a: (await a.stats()).aborted, b: (await b.stats()).aborted };
    const reply = await timed(send(`${lb.url}/slow?ms=700`));
    // 300 ms on the first backend, then 700 on the other (not back to the first: it waits).
    expect(reply.status).toBe(200);
    expect(reply.ms).toBeGreaterThanOrEqual(1000);
    const stats = (await lb.stats()).backends;
    const first = stats.find((s) => s.retries === 1);
    expect(first).toMatchObject({ total: 1, errors: { timeout: 1 } });
    expect(reply.headers['x-backend']).not.toBe(first?.name);
    expect(stats.reduce((n, s) => n + s.total, 0)).toBe(2);
    const cancelled = first?.name === 'a' ? a : b;
    await waitFor('the first backend to see the request cancelled', async () => ((await cancelled.stats()).aborted === before[first?.name as 'a' | 'b'] + 1 ? true : undefined), 2000);

    const post = await timed(send(`${lb.url}/slow?ms=700`, { method: 'POST', body: 'once', headers: { 'Content-Type': 'text/plain' } }));
    expect(post.status).toBe(200);
    expect(post.ms).toBeGreaterThanOrEqual(700);
    const again = (await lb.stats()).backends;
    expect(again.reduce((n, s) => n + s.total, 0)).toBe(3);
    expect(again.reduce((n, s) => n + s.retries, 0)).toBe(1);
  });

  it('with nowhere else to go, a late GET waits on up to timeouts.responseMs', async () => {
    const lb = await lbWith({ backends: backendsOf(b), healthCheck: { intervalMs: 60_000 }, timeouts: { firstByteMs: 200, responseMs: 1200 } });
    b.signal('SIGSTOP');
    const reply = await timed(send(`${lb.url}/alone`));
    expect(reply.status).toBe(504);
    expect(reply.ms).toBeGreaterThanOrEqual(1150);
    // One failure (the response timeout), not one more for the first-byte limit.
    expect(await backend(lb, 'b')).toMatchObject({ status: 'UP', retries: 0, errors: { timeout: 1 } });
  });
});
