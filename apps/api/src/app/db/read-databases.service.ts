import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { HostPort, parseHostPortList } from '@vita/runtime';
import type { ApiEnv } from '../config/env';
import { ENV } from '@vita/runtime';
import { createDataSource, describeError, withTimeout } from './data-source';
import { Queryable, readResume, readVersion, StoredResume } from './resume.store';

/**
 * How good a read database is right now, best first:
 * - `healthy`: the primary itself, or a replica replicating with lag under the bound;
 * - `reconnecting`: a replica applying everything it has but not connected to the primary
 *   (typically: the primary is down) — as fresh as any copy can be while no write is possible;
 * - `stale`: a replica that stopped applying changes or lags past the bound;
 * - `down`: unreachable or not answering in time.
 */
export type ReadDbState = 'healthy' | 'reconnecting' | 'stale' | 'down';
const RANK: Record<ReadDbState, number> = { healthy: 0, reconnecting: 1, stale: 2, down: 3 };

export interface ReadDbStatus {
  name: string;
  state: ReadDbState;
  role?: 'primary' | 'replica';
  version?: number;
  lagSeconds?: number | null;
  reason?: string;
  checkedAt?: string;
}

interface ReadDb {
  address: HostPort;
  source?: DataSource;
  checking: boolean;
  status: ReadDbStatus;
}

/**
 * The ordered list of read databases of this content node (local replica first, primary last).
 * A background check every DB_CHECK_INTERVAL_MS picks the best one (first in order among the
 * best state) and keeps the document of its current version in memory, so a GET costs no
 * database round trip; reads move back to the local replica as soon as it recovers.
 */
@Injectable()
export class ReadDatabases implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(ReadDatabases.name);
  private readonly dbs: ReadDb[];
  private timer?: NodeJS.Timeout;
  private activeIndex = -1;
  private cached?: StoredResume & { json: string };
  private loading?: Promise<void>;

  constructor(@Inject(ENV) private readonly env: ApiEnv) {
    this.dbs = parseHostPortList(env.DB_READ_HOSTS).map((address) => ({
      address,
      checking: false,
      status: { name: `${address.host}:${address.port}`, state: 'down', reason: 'not checked yet' },
    }));
  }

  async onModuleInit(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.env.DB_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.dbs.map((db) => db.source?.destroy().catch(() => undefined)));
  }

  /** The database reads go to now, or undefined when none answers. */
  get active(): ReadDbStatus | undefined {
    return this.dbs[this.activeIndex]?.status;
  }

  statuses(): ReadDbStatus[] {
    return this.dbs.map((db) => ({ ...db.status }));
  }

  /** The current document, or undefined when no read database is reachable. */
  document(): (StoredResume & { json: string }) | undefined {
    return this.activeIndex >= 0 ? this.cached : undefined;
  }

  /** Runs `work` on the active database, moving on to the next usable one if it fails. */
  async query<T>(work: (db: Queryable) => Promise<T>): Promise<T> {
    const order = this.usableOrder();
    let lastError: unknown = new Error('no read database is reachable');
    for (const index of order) {
      const db = this.dbs[index];
      if (!db.source?.isInitialized) continue;
      try {
        return await withTimeout(work(db.source), this.env.DB_TIMEOUT_MS, db.status.name);
      } catch (err) {
        lastError = err;
        this.markDown(db, describeError(err));
      }
    }
    throw lastError;
  }

  /** Checks every database once, then re-picks the active one. Never overlaps itself per database. */
  async tick(): Promise<void> {
    await Promise.all(this.dbs.filter((db) => !db.checking).map((db) => this.check(db)));
    this.choose();
    await this.refreshDocument();
  }

  private usableOrder(): number[] {
    return this.dbs
      .map((db, index) => ({ index, rank: RANK[db.status.state] }))
      .filter((c) => c.rank < RANK.down)
      .sort((a, b) => a.rank - b.rank || a.index - b.index)
      .map((c) => c.index);
  }

  private choose(): void {
    const next = this.usableOrder()[0] ?? -1;
    if (next !== this.activeIndex) {
      const from = this.dbs[this.activeIndex]?.status.name ?? 'none';
      const to = this.dbs[next]?.status;
      this.log.warn(`reads move from ${from} to ${to ? `${to.name} (${to.state})` : 'none: no read database is reachable'}`);
      this.activeIndex = next;
    }
  }

  private async refreshDocument(): Promise<void> {
    const active = this.dbs[this.activeIndex];
    if (!active?.source || active.status.version === undefined || active.status.version === this.cached?.version) return;
    if (this.loading) return this.loading;
    const source = active.source;
    this.loading = (async () => {
      try {
        const stored = await withTimeout(
          source.transaction('REPEATABLE READ', (manager) => readResume(manager)),
          this.env.DB_TIMEOUT_MS,
          active.status.name,
        );
        this.cached = { ...stored, json: JSON.stringify(stored.document) };
      } catch (err) {
        this.markDown(active, describeError(err));
        this.choose();
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private async check(db: ReadDb): Promise<void> {
    db.checking = true;
    try {
      const source = await this.connect(db);
      const [version, replica] = await withTimeout(
        Promise.all([readVersion(source), source.query('SHOW REPLICA STATUS') as Promise<Record<string, unknown>[]>]),
        this.env.DB_TIMEOUT_MS,
        db.status.name,
      );
      db.status = { name: db.status.name, version, checkedAt: new Date().toISOString(), ...this.judge(replica[0]) };
    } catch (err) {
      this.markDown(db, describeError(err));
    } finally {
      db.checking = false;
    }
  }

  private judge(replica: Record<string, unknown> | undefined): Pick<ReadDbStatus, 'state' | 'role' | 'lagSeconds' | 'reason'> {
    if (!replica) return { state: 'healthy', role: 'primary' };
    const io = String(replica['Slave_IO_Running']);
    const sql = String(replica['Slave_SQL_Running']);
    const lag = replica['Seconds_Behind_Master'] === null ? null : Number(replica['Seconds_Behind_Master']);
    const base = { role: 'replica' as const, lagSeconds: lag };
    if (sql !== 'Yes') {
      const error = replica['Last_SQL_Errno'] ? ` (error ${String(replica['Last_SQL_Errno'])})` : '';
      return { ...base, state: 'stale', reason: `replication stopped: SQL thread ${sql}${error}` };
    }
    if (lag !== null && lag > this.env.READY_MAX_LAG_SECONDS) {
      return { ...base, state: 'stale', reason: `lagging ${lag} s behind the primary (bound ${this.env.READY_MAX_LAG_SECONDS} s)` };
    }
    if (io !== 'Yes') return { ...base, state: 'reconnecting', reason: `not connected to the primary: IO thread ${io}` };
    return { ...base, state: 'healthy' };
  }

  private async connect(db: ReadDb): Promise<DataSource> {
    if (db.source?.isInitialized) return db.source;
    const login = { user: this.env.DB_READ_USER, password: this.env.DB_READ_PASSWORD, database: this.env.DB_NAME };
    db.source = createDataSource(db.address, login, { timeoutMs: this.env.DB_TIMEOUT_MS, poolSize: 4 });
    return withTimeout(db.source.initialize(), this.env.DB_TIMEOUT_MS, db.status.name);
  }

  /** Forgets the connection pool too: a hung server keeps its sockets busy, a fresh pool starts clean. */
  private markDown(db: ReadDb, reason: string): void {
    if (db.status.state !== 'down') this.log.warn(`read database ${db.status.name} is down: ${reason}`);
    void db.source?.destroy().catch(() => undefined);
    db.source = undefined;
    db.status = { name: db.status.name, state: 'down', reason, checkedAt: new Date().toISOString() };
  }
}
