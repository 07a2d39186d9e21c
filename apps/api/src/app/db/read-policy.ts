import type { ReadRole } from '../config/env';

/**
 * How good a read database is right now, best first:
 * - `healthy`: the configured primary, or a configured replica replicating within the bound;
 * - `reconnecting`: a replica applying everything it has but not connected to the primary
 *   (typically: the primary is down) — as fresh as any copy can be while no write is possible;
 * - `stale`: a replica that is not replicating, stopped applying changes, lags past the bound, or
 *   is behind the version this api instance has already served;
 * - `down`: unreachable or not answering in time.
 */
export type ReadDbState = 'healthy' | 'reconnecting' | 'stale' | 'down';
export const RANK: Record<ReadDbState, number> = { healthy: 0, reconnecting: 1, stale: 2, down: 3 };

/** What one check of a read database saw. */
export interface Observation {
  role: ReadRole;
  version: number;
  /** The row of SHOW REPLICA STATUS; undefined when it is empty. */
  replica: Record<string, unknown> | undefined;
  /** Newest heartbeat this server has applied (repl-admin's clock, ms); null when there is none. */
  heartbeatMs: number | null;
}

/** What the database is compared with: the reference (see `Reference`) and what this api has served. */
export interface Context {
  /** Whether the primary answered its last check; when not, the reference is the newest copy known. */
  primaryReachable: boolean;
  /** The heartbeat to compare with: the primary's; while it is unreachable, the newest of its last one and every reachable replica's. */
  referenceHeartbeatMs: number | null;
  /** The oldest version newer than this database's that the reference holds, and for how long this api has known it. */
  versionBehind: Behind | null;
  /** Newest version this api instance has served. */
  servedVersion: number | undefined;
  maxLagSeconds: number;
}

/** A newer version the reference holds: since `forMs` ago (Infinity: it already held it when this api first saw the server). */
export interface Behind {
  version: number;
  forMs: number;
}

export interface Judgement {
  state: Exclude<ReadDbState, 'down'>;
  /** What the replica has applied, judged by the heartbeat row: seconds behind the reference's. */
  lagSeconds?: number;
  reason?: string;
}

const seconds = (ms: number): number => Math.round(ms / 100) / 10;

/** Decides how usable a database is from what its check saw. Pure: every rule has its test. */
export function judge(o: Observation, c: Context): Judgement {
  const behindServed = (): Judgement | undefined => {
    if (c.servedVersion === undefined || o.version >= c.servedVersion) return undefined;
    if (o.role === 'primary') return { state: 'stale', reason: restoreSuspected(o.version, c.servedVersion) };
    return { state: 'stale', reason: `at version ${o.version}, behind version ${c.servedVersion} that this api has served: passed over until it catches up` };
  };
  if (o.role === 'primary') return behindServed() ?? { state: 'healthy' };

  const row = o.replica;
  if (!row) return { state: 'stale', reason: 'not replicating: configured as a replica, but SHOW REPLICA STATUS is empty (no replication is set up)' };
  const lag =
    c.referenceHeartbeatMs !== null && o.heartbeatMs !== null ? { lagSeconds: seconds(Math.max(0, c.referenceHeartbeatMs - o.heartbeatMs)) } : {};
  const sql = String(row['Slave_SQL_Running']);
  if (sql !== 'Yes') {
    const error = row['Last_SQL_Errno'] ? ` (error ${String(row['Last_SQL_Errno'])})` : '';
    return { state: 'stale', ...lag, reason: `not replicating: SQL thread ${sql}${error}` };
  }
  const bound = `bound ${c.maxLagSeconds} s`;
  if (lag.lagSeconds !== undefined && lag.lagSeconds > c.maxLagSeconds) {
    const of = c.primaryReachable ? "the primary's" : `the newest known while the primary is unreachable (another replica's, or the primary's last)`;
    return { state: 'stale', ...lag, reason: `its applied heartbeat is ${lag.lagSeconds} s behind ${of} (${bound})` };
  }
  const behind = c.versionBehind;
  if (behind && behind.forMs > c.maxLagSeconds * 1000) {
    const holder = c.primaryReachable ? 'the primary holds' : 'is the newest known while the primary is unreachable (on another replica, or the primary when last seen)';
    const since = Number.isFinite(behind.forMs) ? `for ${seconds(behind.forMs)} s` : 'since before this api first saw it, so for an unknown time';
    return { state: 'stale', ...lag, reason: `at version ${o.version}, behind version ${behind.version} that ${holder}, ${since} (${bound})` };
  }
  const served = behindServed();
  if (served) return { ...served, ...lag };
  const io = String(row['Slave_IO_Running']);
  if (io !== 'Yes') return { state: 'reconnecting', ...lag, reason: `not connected to the primary: IO thread ${io}` };
  return { state: 'healthy', ...lag };
}

/**
 * The primary holds an older version than this api has served: it was restored from a backup (or a
 * server that was behind was made the primary). The api keeps what it served; the operator moves
 * the version forward (README, "Restoring the primary").
 */
export function restoreSuspected(primaryVersion: number, servedVersion: number): string {
  return (
    `the primary is at version ${primaryVersion}, below version ${servedVersion} that this api has served: likely restored from a backup. ` +
    `This api keeps serving version ${servedVersion} (versions never go backwards) until the primary's version is above it; ` +
    `to publish what the primary holds, raise its version past the highest servedVersion of every api instance, on the primary: ` +
    `UPDATE vita.resume_state SET version = ${servedVersion + 1}, updated_at = UTC_TIMESTAMP(3) WHERE id = 1`
  );
}

/** What a check saw of a server, as the reference takes it in. */
export interface Sighting {
  /** `host:port`: tells a server seen again from one seen for the first time. */
  name: string;
  version: number;
  heartbeatMs: number | null;
}

export interface ReferencePoint {
  primaryReachable: boolean;
  heartbeatMs: number | null;
}

/**
 * The reference's versions with the time this api first saw each (-Infinity: held before this api
 * could tell), oldest first, a bounded list.
 */
export class VersionHistory {
  private readonly seen: { version: number; at: number }[] = [];

  constructor(private readonly keep = 256) {}

  /** The primary's version: a lower one than the last (a restore) starts the list again. */
  record(version: number, now: number): void {
    const last = this.seen[this.seen.length - 1];
    if (last && version < last.version) this.seen.length = 0;
    this.raise(version, now);
  }

  /** A version a copy holds: only ever adds a newer one, never forgets (a copy cannot undo the primary). */
  raise(version: number, now: number): void {
    const last = this.seen[this.seen.length - 1];
    if (last && version <= last.version) return;
    this.seen.push({ version, at: now });
    if (this.seen.length > this.keep) this.seen.shift();
  }

  /** The oldest known version newer than `version`, and for how long it has been known; null if there is none. */
  behind(version: number, now: number): Behind | null {
    const newer = this.seen.find((s) => s.version > version);
    return newer ? { version: newer.version, forMs: now - newer.at } : null;
  }
}

/**
 * What replicas are compared with. While the primary answers, its heartbeat and versions. While it
 * does not, the newest of what it last showed and of what every reachable replica has applied: a
 * replica far behind another is then still told apart, and copies all equally current still serve.
 * A version a server already held when this api first saw that server has been held for an unknown
 * time, so it counts as held for longer than any bound. Times are this api's clock (ms); pure.
 */
export class Reference {
  readonly versions = new VersionHistory();
  private primaryHeartbeatMs: number | null = null;
  private seenBefore = new Set<string>();

  /** Takes in one round of checks: the primary's sighting (undefined: it did not answer) and the replicas'. */
  update(primary: Sighting | undefined, replicas: Sighting[], now: number): ReferencePoint {
    const previous = this.seenBefore;
    this.seenBefore = new Set([...(primary ? [primary] : []), ...replicas].map((s) => s.name));
    const at = (s: Sighting): number => (previous.has(s.name) ? now : -Infinity);
    if (primary) {
      this.versions.record(primary.version, at(primary));
      if (primary.heartbeatMs !== null) this.primaryHeartbeatMs = primary.heartbeatMs;
      return { primaryReachable: true, heartbeatMs: primary.heartbeatMs };
    }
    for (const replica of replicas) this.versions.raise(replica.version, at(replica));
    const beats = [this.primaryHeartbeatMs, ...replicas.map((r) => r.heartbeatMs)].filter((b): b is number => b !== null);
    return { primaryReachable: false, heartbeatMs: beats.length > 0 ? Math.max(...beats) : null };
  }
}

/** What `/health/ready` needs of a database's status. */
export interface Judged {
  state: ReadDbState;
  version?: number;
  reason?: string;
}

/**
 * Whether this api is ready: it serves from a database that is current, or as current as any can
 * be (`reconnecting`), and the primary is not below what it has served (a restore to act on).
 */
export function readiness(active: Judged | undefined, primary: Judged, servedVersion: number | undefined): { ok: boolean; error?: string } {
  if (primary.state !== 'down' && primary.version !== undefined && servedVersion !== undefined && primary.version < servedVersion) {
    return { ok: false, error: restoreSuspected(primary.version, servedVersion) };
  }
  if (!active) return { ok: false, error: 'no read database is reachable' };
  if (active.state === 'healthy' || active.state === 'reconnecting') return { ok: true };
  return { ok: false, error: `best read database is ${active.state}: ${active.reason ?? 'no reason given'}` };
}
