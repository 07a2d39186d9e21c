import type { Algorithm } from '../config/config';
import type { Backend } from './backend';

/** Every eligible backend is at its maxconn: the request waits in the queue. */
export const FULL = 'full';

/**
 * Picks a backend for each request: smooth weighted round-robin (nginx's algorithm: over any window
 * each backend gets its weight's share, interleaved rather than in bursts) or least outstanding
 * requests relative to weight. Backends at maxconn are passed over; `avoid` (backends a request
 * already failed on) too, unless nothing else is eligible.
 *
 * Backups (HAProxy's `backup` servers with `option allbackups`) are picked from only while no local
 * backend is eligible, and then all eligible backups share the requests by the same algorithm;
 * local backends at maxconn still count as eligible (the request waits in the queue for them).
 */
export class Balancer<B extends Backend = Backend> {
  private rotation = 0;

  constructor(
    public backends: B[],
    public algorithm: Algorithm,
    public slowStartMs: number,
    public backups: B[] = [],
  ) {}

  /**
   * A backend, FULL when every eligible one is at maxconn, null when none is eligible. Without
   * `useBackups` (a request another node's lb sent) only local backends are considered.
   */
  pick(now: number, avoid: readonly B[] | null = null, useBackups = true): B | typeof FULL | null {
    const local = this.among(this.backends, now, avoid);
    return local !== null || !useBackups ? local : this.among(this.backups, now, avoid);
  }

  /** The backends a request would be sent to now: the local ones while any is eligible, else the backups (if it may use them). */
  serving(useBackups = true): readonly B[] {
    return !useBackups || this.backends.some((b) => b.eligible) ? this.backends : this.backups;
  }

  private among(set: readonly B[], now: number, avoid: readonly B[] | null): B | typeof FULL | null {
    const picked = this.algorithm === 'round-robin' ? this.roundRobin(set, now, avoid) : this.leastOutstanding(set, now, avoid);
    return picked === null && avoid !== null ? this.among(set, now, null) : picked;
  }

  private roundRobin(set: readonly B[], now: number, avoid: readonly B[] | null): B | typeof FULL | null {
    let best: B | null = null;
    let total = 0;
    let full = false;
    for (const b of set) {
      if (!b.eligible || (avoid !== null && avoid.includes(b))) continue;
      if (b.active >= b.maxconn) {
        full = true;
        continue;
      }
      const weight = b.weightAt(now, this.slowStartMs);
      b.current += weight;
      total += weight;
      if (best === null || b.current > best.current) best = b;
    }
    if (best === null) return full ? FULL : null;
    best.current -= total;
    return best;
  }

  private leastOutstanding(set: readonly B[], now: number, avoid: readonly B[] | null): B | typeof FULL | null {
    const n = set.length;
    // Start from a rotating offset so that ties (e.g. all idle) are shared out in turn.
    if (n === 0) return null;
    const start = this.rotation++ % n;
    let best: B | null = null;
    let bestScore = Infinity;
    let full = false;
    for (let k = 0; k < n; k++) {
      const b = set[(start + k) % n];
      if (!b.eligible || (avoid !== null && avoid.includes(b))) continue;
      if (b.active >= b.maxconn) {
        full = true;
        continue;
      }
      const score = (b.active + 1) / b.weightAt(now, this.slowStartMs);
      if (score < bestScore) {
        best = b;
        bestScore = score;
      }
    }
    return best ?? (full ? FULL : null);
  }
}
