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

/** What the database is compared with. */
export interface Context {
  /** Newest heartbeat on the primary, when the primary answered its last check. */
  primaryHeartbeatMs: number | null;
  /** How long the primary has held a version newer than this database's (null: it does not). */
  versionBehindMs: number | null;
  /** Newest version this api instance has served. */
  servedVersion: number | undefined;
  maxLagSeconds: number;
}

export interface Judgement {
  state: Exclude<ReadDbState, 'down'>;
  /** What the replica has applied, judged by the heartbeat row: seconds behind the primary's. */
  lagSeconds?: number;
  reason?: string;
}

const seconds = (ms: number): number => Math.round(ms / 100) / 10;

/** Decides how usable a database is from what its check saw. Pure: every rule has its test. */
export function judge(o: Observation, c: Context): Judgement {
  const behindServed = (): Judgement | undefined =>
    c.servedVersion !== undefined && o.version < c.servedVersion
      ? { state: 'stale', reason: `at version ${o.version}, behind version ${c.servedVersion} that this api has served: passed over until it catches up` }
      : undefined;
  if (o.role === 'primary') return behindServed() ?? { state: 'healthy' };

  const row = o.replica;
  if (!row) return { state: 'stale', reason: 'not replicating: configured as a replica, but SHOW REPLICA STATUS is empty (no replication is set up)' };
  const lag =
    c.primaryHeartbeatMs !== null && o.heartbeatMs !== null ? { lagSeconds: seconds(Math.max(0, c.primaryHeartbeatMs - o.heartbeatMs)) } : {};
  const sql = String(row['Slave_SQL_Running']);
  if (sql !== 'Yes') {
    const error = row['Last_SQL_Errno'] ? ` (error ${String(row['Last_SQL_Errno'])})` : '';
    return { state: 'stale', ...lag, reason: `not replicating: SQL thread ${sql}${error}` };
  }
  if (lag.lagSeconds !== undefined && lag.lagSeconds > c.maxLagSeconds) {
    return { state: 'stale', ...lag, reason: `its applied heartbeat is ${lag.lagSeconds} s behind the primary's (bound ${c.maxLagSeconds} s)` };
  }
  if (c.versionBehindMs !== null && c.versionBehindMs > c.maxLagSeconds * 1000) {
    return { state: 'stale', ...lag, reason: `at version ${o.version}, behind the primary's newer version for ${seconds(c.versionBehindMs)} s (bound ${c.maxLagSeconds} s)` };
  }
  const served = behindServed();
  if (served) return { ...served, ...lag };
  const io = String(row['Slave_IO_Running']);
  if (io !== 'Yes') return { state: 'reconnecting', ...lag, reason: `not connected to the primary: IO thread ${io}` };
  return { state: 'healthy', ...lag };
}

/** The primary's versions with the time this api first saw each, oldest first, a bounded list. */
export class PrimaryVersions {
  private readonly seen: { version: number; at: number }[] = [];

  constructor(private readonly keep = 256) {}

  record(version: number, now: number): void {
    const last = this.seen[this.seen.length - 1];
    if (last && version < last.version) this.seen.length = 0;
    else if (last && version === last.version) return;
    this.seen.push({ version, at: now });
    if (this.seen.length > this.keep) this.seen.shift();
  }

  /** How long the primary has been known to hold a version newer than `version`; null if it has not. */
  behindMs(version: number, now: number): number | null {
    const newer = this.seen.find((s) => s.version > version);
    return newer ? now - newer.at : null;
  }
}
