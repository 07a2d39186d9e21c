import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { ENV, parseHostPort } from '@vita/runtime';
import { ApiEnv, parseReadHosts, ReadHost, ReadRole } from '../config/env';
import { createDataSource, describeError, withTimeout } from './data-source';
import { type SiteNodeRow, SiteNodes } from './entities';
import { judge, Observation, RANK, readiness, ReadDbState, Reference, Sighting } from './read-policy';
import { Queryable, readResume, readVersion, StoredResume } from './resume.store';

export type { ReadDbState } from './read-policy';

export interface ReadDbStatus {
  name: string;
  role: ReadRole;
  state: ReadDbState;
  version?: number;
  /** What a replica has applied, judged by repl-admin's heartbeat row: seconds behind the reference's (the primary's, or while it is unreachable the newest known). */
  lagSeconds?: number;
  reason?: string;
  checkedAt?: string;
}

export type CurrentDocument = StoredResume & { json: string };
/** Called with each newer version this api instance starts serving. */
export type VersionListener = (version: number) => void;

interface ReadDb {
  host: ReadHost;
  source?: DataSource;
  checking: boolean;
  /** What its last successful check saw; undefined while it is down. */
  seen?: Observation;
  /**
   * The version this api served when that observation was asked for: only a version read after
   * serving one can be judged behind it (a check that started before a new version was served says
   * nothing about it).
   */
  servedBefore?: number;
  status: ReadDbStatus;
  /** Learned from the topology (another node's replica), not configured: dropped when the topology no longer lists it. */
  fromTopology?: boolean;
}

/**
 * The ordered read databases of this content node (local replica first, primary last), each with
 * its configured role. A check every DB_CHECK_INTERVAL_MS judges each one (read-policy.ts) against
 * the primary (the one listed as `primary`, else DB_WRITE_HOST, checked with the read account) or,
 * while the primary is unreachable, against the newest copy known (read-policy.ts `Reference`), and
 * picks the best; the active one's version is asked for every DB_VERSION_INTERVAL_MS. The document
 * is kept in memory and only ever replaced by a newer version, and listeners hear of each one.
 */
@Injectable()
export class ReadDatabases implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(ReadDatabases.name);
  private readonly dbs: ReadDb[];
  /** The primary the replicas are compared with; one of `dbs` when listed there. */
  private readonly primary: ReadDb;
  private checked: ReadDb[];
  private readonly primaryListed: boolean;
  /** What replicas are compared with: the primary, or while it is unreachable the newest copy known. */
  private readonly reference = new Reference();
  private readonly listeners = new Set<VersionListener>();
  private readonly heartbeatSql: string;
  private timers: NodeJS.Timeout[] = [];
  private activeIndex = -1;
  private cached?: CurrentDocument;
  private loading?: Promise<void>;
  private watching = false;

  constructor(@Inject(ENV) private readonly env: ApiEnv) {
    const entry = (host: ReadHost): ReadDb => ({ host, checking: false, status: { name: host.name, role: host.role, state: 'down', reason: 'not checked yet' } });
    this.dbs = parseReadHosts(env.DB_READ_HOSTS).map(entry);
    const listed = this.dbs.find((db) => db.host.role === 'primary');
    const write = parseHostPort(env.DB_WRITE_HOST);
    this.primary = listed ?? entry({ role: 'primary', address: write, name: `${write.host}:${write.port}` });
    this.primaryListed = listed !== undefined;
    this.checked = listed ? this.dbs : [...this.dbs, this.primary];
    this.heartbeatSql = `SELECT MAX(ts_ms) AS ts FROM \`${env.DB_HEARTBEAT_SCHEMA}\`.heartbeat`;
  }

  async onModuleInit(): Promise<void> {
    await this.tick();
    this.timers = [
      setInterval(() => void this.tick(), this.env.DB_CHECK_INTERVAL_MS),
      setInterval(() => void this.watch(), this.env.DB_VERSION_INTERVAL_MS),
      ...(this.env.DB_SITES_INTERVAL_MS > 0 ? [setInterval(() => void this.followTopology(), this.env.DB_SITES_INTERVAL_MS)] : []),
    ];
    this.timers.forEach((t) => t.unref());
  }

  async onModuleDestroy(): Promise<void> {
    this.timers.forEach((t) => clearInterval(t));
    this.listeners.clear();
    await Promise.all(this.checked.map((db) => db.source?.destroy().catch(() => undefined)));
  }

  /** The database reads go to now, or undefined when none answers. */
  get active(): ReadDbStatus | undefined {
    return this.dbs[this.activeIndex]?.status;
  }

  statuses(): ReadDbStatus[] {
    return this.dbs.map((db) => ({ ...db.status }));
  }

  /** The primary replicas are compared with (listed among the read databases or not). */
  primaryStatus(): ReadDbStatus {
    return { ...this.primary.status };
  }

  /** Whether this instance is ready, and why not (read-policy.ts `readiness`). */
  readiness(): { ok: boolean; error?: string } {
    return readiness(this.active, this.primary.status, this.primary.servedBefore);
  }

  /** The newest version this instance has served (it never serves an older one after it). */
  get servedVersion(): number | undefined {
    return this.cached?.version;
  }

  /** The current document, or undefined when no read database is reachable. */
  document(): CurrentDocument | undefined {
    return this.activeIndex >= 0 ? this.cached : undefined;
  }

  /** Calls `listener` with every newer version from now on; returns the way to stop. */
  onVersion(listener: VersionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs `work` on the active database, moving on to the next usable one if it fails. */
  async query<T>(work: (db: Queryable) => Promise<T>): Promise<T> {
    let lastError: unknown = new Error('no read database is reachable');
    for (const index of this.usableOrder()) {
      const db = this.dbs[index];
      if (!db.source?.isInitialized) continue;
      try {
        return await withTimeout(work(db.source), this.env.DB_TIMEOUT_MS, db.host.name);
      } catch (err) {
        lastError = err;
        this.markDown(db, describeError(err));
      }
    }
    throw lastError;
  }

  /**
   * Reads the topology and keeps the read databases in step: another active node's replica is read
   * after the configured replicas and before the primary (judged like any replica before it is used);
   * one the topology no longer lists is dropped. Configured databases are never touched.
   */
  async followTopology(): Promise<void> {
    const from = this.dbs[this.activeIndex];
    if (!from?.source?.isInitialized) return;
    let rows: SiteNodeRow[];
    try {
      rows = await withTimeout(from.source.getRepository(SiteNodes).find({ where: { state: 'active' } }), this.env.DB_TIMEOUT_MS, from.host.name);
    } catch {
      return; // a failed read (the checks judge the database), or no topology table yet: the list stays as it is
    }
    const key = (host: string, port: number) => `${host.toLowerCase()}:${port}`;
    const wanted = new Map(rows.map((r) => [key(r.address, r.dbPort), r]));
    const write = parseHostPort(this.env.DB_WRITE_HOST);
    const active = this.dbs[this.activeIndex];
    let changed = false;
    for (const db of [...this.dbs]) {
      if (db.fromTopology && !wanted.has(key(db.host.address.host, db.host.address.port)) && db !== active) {
        this.dbs.splice(this.dbs.indexOf(db), 1);
        void db.source?.destroy().catch(() => undefined);
        this.log.log(`read database ${db.host.name} left the topology`);
        changed = true;
      }
    }
    const known = new Set([...this.dbs, this.primary].map((db) => key(db.host.address.host, db.host.address.port)));
    for (const [k, row] of wanted) {
      if (known.has(k) || k === key(write.host, write.port)) continue;
      const host: ReadHost = { role: 'replica', address: { host: row.address, port: row.dbPort }, name: `${row.address}:${row.dbPort}` };
      const firstPrimary = this.dbs.findIndex((db) => db.host.role === 'primary');
      this.dbs.splice(firstPrimary < 0 ? this.dbs.length : firstPrimary, 0, { host, checking: false, fromTopology: true, status: { name: host.name, role: 'replica', state: 'down', reason: 'not checked yet' } });
      this.log.log(`read database ${host.name} (node ${row.name}) joined from the topology`);
      changed = true;
    }
    if (!changed) return;
    this.checked = this.primaryListed ? this.dbs : [...this.dbs, this.primary];
    this.activeIndex = active ? this.dbs.indexOf(active) : -1;
  }

  /** Checks every database once, then judges them and re-picks the active one. Never overlaps itself per database. */
  async tick(): Promise<void> {
    await Promise.all(this.checked.filter((db) => !db.checking).map((db) => this.check(db)));
    this.judgeAll();
    this.choose();
    const active = this.dbs[this.activeIndex];
    if (active?.seen && this.isNewer(active.seen.version)) await this.load(active);
  }

  /** The cheap question asked often: has the active database a newer version than the one served? */
  private async watch(): Promise<void> {
    const db = this.dbs[this.activeIndex];
    if (this.watching || !db?.seen || !db.source?.isInitialized) return;
    this.watching = true;
    try {
      const servedBefore = this.cached?.version;
      const version = await withTimeout(readVersion(db.source), this.env.DB_TIMEOUT_MS, db.host.name);
      if (db.seen && version !== db.seen.version) {
        db.seen = { ...db.seen, version };
        db.servedBefore = servedBefore;
        this.judgeAll();
        this.choose();
      }
      if (this.isNewer(version)) await this.load(db);
    } catch (err) {
      this.markDown(db, describeError(err));
      this.choose();
    } finally {
      this.watching = false;
    }
  }

  private isNewer(version: number): boolean {
    return this.cached === undefined || version > this.cached.version;
  }

  private judgeAll(): void {
    const now = Date.now();
    const sighting = (db: ReadDb): Sighting | undefined => db.seen && { name: db.host.name, version: db.seen.version, heartbeatMs: db.seen.heartbeatMs };
    const replicas = this.checked.filter((db) => db !== this.primary && db.host.role === 'replica');
    const point = this.reference.update(
      sighting(this.primary),
      replicas.map(sighting).filter((s): s is Sighting => s !== undefined),
      now,
    );
    for (const db of this.checked) {
      if (!db.seen) continue;
      const judgement = judge(db.seen, {
        primaryReachable: point.primaryReachable,
        referenceHeartbeatMs: point.heartbeatMs,
        versionBehind: this.reference.versions.behind(db.seen.version, now),
        servedVersion: db.servedBefore,
        maxLagSeconds: this.env.READY_MAX_LAG_SECONDS,
      });
      const { name, role, checkedAt } = db.status;
      const next: ReadDbStatus = { name, role, version: db.seen.version, checkedAt, ...judgement };
      if (next.state !== db.status.state && next.state === 'stale') this.log.warn(`read database ${name} is passed over: ${next.reason}`);
      db.status = next;
    }
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

  /** Loads the whole document from `db` in one snapshot; keeps it only when newer than the one served. */
  private load(db: ReadDb): Promise<void> {
    const source = db.source;
    if (!source) return Promise.resolve();
    this.loading ??= (async () => {
      try {
        const stored = await withTimeout(
          source.transaction('REPEATABLE READ', (manager) => readResume(manager)),
          this.env.DB_TIMEOUT_MS,
          db.host.name,
        );
        if (!this.isNewer(stored.version)) return;
        this.cached = { ...stored, json: JSON.stringify(stored.document) };
        this.announce(stored.version);
      } catch (err) {
        this.markDown(db, describeError(err));
        this.choose();
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private announce(version: number): void {
    for (const listener of this.listeners) {
      try {
        listener(version);
      } catch (err) {
        this.log.error(`a version listener failed: ${describeError(err)}`);
      }
    }
  }

  private async check(db: ReadDb): Promise<void> {
    db.checking = true;
    const servedBefore = this.cached?.version;
    try {
      const source = await this.connect(db);
      const replicaStatus = db.host.role === 'replica' ? (source.query('SHOW REPLICA STATUS') as Promise<Record<string, unknown>[]>) : Promise.resolve([]);
      const heartbeat = (source.query(this.heartbeatSql) as Promise<{ ts: unknown }[]>).then(
        ([row]) => (row?.ts === null || row?.ts === undefined ? null : Number(row.ts)),
        () => null,
      );
      const [version, replica, heartbeatMs] = await withTimeout(Promise.all([readVersion(source), replicaStatus, heartbeat]), this.env.DB_TIMEOUT_MS, db.host.name);
      db.seen = { role: db.host.role, version, replica: replica[0], heartbeatMs };
      db.servedBefore = servedBefore;
      db.status = { ...db.status, checkedAt: new Date().toISOString() };
    } catch (err) {
      this.markDown(db, describeError(err));
    } finally {
      db.checking = false;
    }
  }

  private async connect(db: ReadDb): Promise<DataSource> {
    if (db.source?.isInitialized) return db.source;
    const login = { user: this.env.DB_READ_USER, password: this.env.DB_READ_PASSWORD, database: this.env.DB_NAME };
    db.source = createDataSource(db.host.address, login, { timeoutMs: this.env.DB_TIMEOUT_MS, poolSize: 4, tlsCaFile: this.env.DB_TLS_CA });
    return withTimeout(db.source.initialize(), this.env.DB_TIMEOUT_MS, db.host.name);
  }

  /** Forgets the connection pool too: a hung server keeps its sockets busy, a fresh pool starts clean. */
  private markDown(db: ReadDb, reason: string): void {
    if (db.status.state !== 'down') this.log.warn(`read database ${db.host.name} is down: ${reason}`);
    void db.source?.destroy().catch(() => undefined);
    db.source = undefined;
    db.seen = undefined;
    db.status = { name: db.host.name, role: db.host.role, state: 'down', reason, checkedAt: new Date().toISOString() };
  }
}
