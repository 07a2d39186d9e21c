import { backoffDelay, delayBeforeNext, RateLimiter } from './pacing';

describe('route53 pacing', () => {
  it('delayBeforeNext lets `limit` requests through per window, then waits for the oldest to leave it', () => {
    expect(delayBeforeNext([], 0, 2, 1000)).toBe(0);
    expect(delayBeforeNext([0], 10, 2, 1000)).toBe(0);
    expect(delayBeforeNext([0, 10], 20, 2, 1000)).toBe(980);
    expect(delayBeforeNext([0, 10], 1000, 2, 1000)).toBe(0);
    expect(delayBeforeNext([0, 10, 600], 1005, 2, 1000)).toBe(5);
  });

  it('backoffDelay grows exponentially up to the cap, with jitter between half and all of it', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, 100, 500, () => 1))).toEqual([100, 200, 400, 500, 500]);
    expect([1, 2, 3].map((n) => backoffDelay(n, 100, 500, () => 0))).toEqual([50, 100, 200]);
  });

  it('RateLimiter spaces concurrent callers so no window holds more than the limit', async () => {
    const limiter = new RateLimiter(3, 200);
    const times: number[] = [];
    const ctl = new AbortController();
    await Promise.all(Array.from({ length: 7 }, () => limiter.acquire(ctl.signal).then(() => times.push(performance.now()))));
    for (let i = 3; i < times.length; i++) expect(times[i] - times[i - 3]).toBeGreaterThanOrEqual(199);
  });

  it('RateLimiter rejects waiting callers when its signal aborts', async () => {
    const limiter = new RateLimiter(1, 60_000);
    const ctl = new AbortController();
    await limiter.acquire(ctl.signal);
    const waiting = limiter.acquire(ctl.signal);
    ctl.abort();
    await expect(waiting).rejects.toThrow();
  });
});
