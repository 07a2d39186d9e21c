import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How long to wait before the next request so that no window of `windowMs` holds more than `limit`
 * requests, given the send times of the recent ones (ascending). 0: send now.
 *
 * A sliding window rather than a token bucket: a bucket of `limit` tokens refilled at `limit`/s lets
 * a full bucket and a second of refill through within one second (up to twice the limit), which
 * Route 53's per-second limit would answer with Throttling.
 */
export function delayBeforeNext(sent: readonly number[], now: number, limit: number, windowMs: number): number {
  const recent = sent.filter((t) => now - t < windowMs);
  if (recent.length < limit) return 0;
  return recent[recent.length - limit] + windowMs - now;
}

/** Exponential backoff with jitter for attempt 1, 2, ...: between half and all of min(max, base·2^(n-1)). */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * Client-side rate limit: callers take turns (first come, first served) and each turn waits until
 * `delayBeforeNext` allows it. The window carries a guard so that jitter between here and the
 * service's clock does not push two windows' worth into one there.
 */
export class RateLimiter {
  private readonly sent: number[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Resolves when a request may be sent (and counts it as sent); rejects when `signal` aborts. */
  acquire(signal: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.waitForSlot(signal));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async waitForSlot(signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      const now = this.now();
      const wait = delayBeforeNext(this.sent, now, this.limit, this.windowMs);
      if (wait <= 0) {
        while (this.sent.length > 0 && now - this.sent[0] >= this.windowMs) this.sent.shift();
        this.sent.push(now);
        return;
      }
      await sleep(Math.ceil(wait), undefined, { signal });
    }
  }
}
