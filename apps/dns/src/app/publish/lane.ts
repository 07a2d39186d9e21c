import { RECORD_TYPES, ProviderError, type DnsProvider, type RecordSet, type RecordType } from '@vita/dns-providers';

export type Records = Partial<Record<RecordType, string[]>>;

export interface LaneLog {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface LaneEvents {
  update(provider: string, type: RecordType): void;
  correction(provider: string, type: RecordType): void;
  failure(provider: string, kind: string): void;
}

/** How one provider is doing, for the status page, metrics and alerts. */
export interface LaneStatus {
  provider: string;
  state: 'pending' | 'ok' | 'failing';
  /** What it served at the last read. */
  served: Partial<Record<RecordType, RecordSet>> | null;
  lastSync: string | null;
  lastError: { kind: string; message: string; at: string } | null;
  consecutiveErrors: number;
  /** ISO time of the next attempt after a failure. */
  retryAt: string | null;
  updates: number;
  corrections: number;
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
const list = (values: readonly string[]): string => (values.length ? values.join(' ') : 'nothing');
const BACKOFF_MS = [1000, 2000, 5000, 10_000, 30_000, 60_000];

/**
 * One provider's publication: reads what it serves, replaces each record set that differs from what
 * is wanted (conditionally: the set read is the prerequisite), and on failure retries with a backoff.
 * One lane never waits for another: a failing or slow provider holds back only itself.
 */
export class ProviderLane {
  private busy: Promise<void> | null = null;
  private queued: { records: Records; converge: boolean; done: Array<() => void> } | null = null;
  private closed = false;
  private written: Records | null = null;
  private nextAttempt = 0;
  readonly status: LaneStatus;

  constructor(
    readonly provider: DnsProvider,
    private readonly name: string,
    private readonly ttl: number,
    private readonly log: LaneLog,
    private readonly events: LaneEvents,
  ) {
    this.status = { provider: provider.id, state: 'pending', served: null, lastSync: null, lastError: null, consecutiveErrors: 0, retryAt: null, updates: 0, corrections: 0 };
  }

  /** For good: drops what waits, takes no more work, and resolves when the attempt in progress, if any, is over. */
  async close(): Promise<void> {
    this.closed = true;
    const q = this.queued;
    this.queued = null;
    q?.done.forEach((resolve) => resolve());
    await this.busy;
  }

  /** True when the provider was last seen serving exactly `records`. */
  serves(records: Records): boolean {
    const served = this.status.served;
    return served !== null && Object.entries(records).every(([type, values]) => same(served[type as RecordType]?.values ?? [], values));
  }

  /**
   * Brings the provider to `records` when they differ from what this lane last wrote, or always when
   * `converge` (read back and correct). Resolves when the attempt that applies them is over: a call
   * while one runs waits for it and goes next (only the newest waiting call is made); a call during a
   * failure's backoff does nothing.
   */
  sync(records: Records, converge: boolean, now = Date.now()): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.busy) {
      // One attempt at a time; the newest decision waits for it and goes next (older ones are dropped).
      const q = (this.queued ??= { records, converge, done: [] });
      Object.assign(q, { records, converge: converge || q.converge });
      return new Promise((resolve) => q.done.push(resolve));
    }
    if (now < this.nextAttempt) return Promise.resolve();
    const changed = this.written === null || !RECORD_TYPES.every((t) => same(this.written?.[t] ?? [], records[t] ?? []));
    if (!changed && !converge) return Promise.resolve();
    this.busy = this.run(records).finally(() => {
      this.busy = null;
      const q = this.queued;
      this.queued = null;
      if (q) void this.sync(q.records, q.converge).then(() => q.done.forEach((resolve) => resolve()));
    });
    return this.busy;
  }

  private async run(records: Records): Promise<void> {
    const id = this.provider.id;
    try {
      let served = await this.provider.read(this.name);
      this.status.served = served;
      for (const type of RECORD_TYPES) {
        const want = records[type];
        if (want === undefined) continue;
        const have = served[type];
        if (same(have.values, want) && (want.length === 0 || have.ttl === this.ttl)) continue;
        const wrote = this.written?.[type];
        if (wrote !== undefined && !same(have.values, wrote)) {
          this.status.corrections++;
          this.events.correction(id, type);
          this.log.warn(`${id} served ${type} ${list(have.values)} where ${list(wrote)} was published (a hand edit, or another controller's view): putting back ${list(want)}`);
        }
        try {
          await this.provider.replace(this.name, type, have, want, this.ttl);
        } catch (err) {
          if (!(err instanceof ProviderError && err.kind === 'conflict')) throw err;
          // Changed between the read and the update: read it again and retry once.
          served = await this.provider.read(this.name);
          this.status.served = served;
          await this.provider.replace(this.name, type, served[type], want, this.ttl);
        }
        this.status.updates++;
        this.events.update(id, type);
        this.log.info(`${id}: ${this.name} ${type} is now ${list(want)} (was ${list(have.values)})`);
        this.status.served = { ...this.status.served, [type]: { values: want, ttl: want.length ? this.ttl : null } };
      }
      this.written = { ...records };
      this.status.state = 'ok';
      this.status.lastSync = new Date().toISOString();
      this.status.consecutiveErrors = 0;
      this.status.retryAt = null;
      this.nextAttempt = 0;
    } catch (err) {
      const kind = err instanceof ProviderError ? err.kind : 'refused';
      const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
      const delay = BACKOFF_MS[Math.min(this.status.consecutiveErrors, BACKOFF_MS.length - 1)];
      this.status.consecutiveErrors++;
      this.status.state = 'failing';
      this.status.lastError = { kind, message, at: new Date().toISOString() };
      this.nextAttempt = Date.now() + delay;
      this.status.retryAt = new Date(this.nextAttempt).toISOString();
      this.events.failure(id, kind);
      this.log.error(`${id}: cannot publish ${this.name} (${kind}: ${message}); retrying in ${delay / 1000} s`);
    }
  }
}
