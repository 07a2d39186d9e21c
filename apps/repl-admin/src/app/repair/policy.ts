import type { AutoRepairKind, ReplicaStatusDto } from '@vita/contracts';
import { stmt, type Stmt } from '../db/sql';
import { CONNECTION_ERRORS, LOCK_ERRORS } from '../monitor/explain';

export interface AutoSettings {
  enabled: boolean;
  maxPerHour: number;
  backoffSeconds: number;
  confirmSeconds: number;
  graceSeconds: number;
}

/** What automation remembers about one replica. */
export interface AutoHistory {
  /** When automatic actions ran (ms), the last hour's only. */
  times: number[];
  /** The last action, until it is judged. */
  pending: { kind: AutoRepairKind; at: number; confirmUntil: number } | null;
  /** Set after an action that did not help; cleared by a successful manual action. */
  disabledReason: string | null;
}

export type Decision =
  | { kind: 'act'; repair: AutoRepairKind; statements: Stmt[]; why: string }
  | { kind: 'judge'; repair: AutoRepairKind; helped: boolean; why: string }
  | { kind: 'wait'; why: string };

const HOUR = 3_600_000;
const REPAIRS: Record<AutoRepairKind, Stmt[]> = {
  'start-io': [stmt('START REPLICA IO_THREAD')],
  'restart-io': [stmt('STOP REPLICA IO_THREAD'), stmt('START REPLICA IO_THREAD')],
  'restart-sql': [stmt('START REPLICA SQL_THREAD')],
};

/** Did replication recover from what the repair addressed? */
const recovered = (r: ReplicaStatusDto, kind: AutoRepairKind): boolean => (kind === 'restart-sql' ? r.sqlThread === 'Yes' : r.ioThread === 'Yes');
const relapsed = (r: ReplicaStatusDto, kind: AutoRepairKind): boolean => (kind === 'restart-sql' ? r.state === 'SQL_ERROR' : r.state === 'IO_ERROR');

/** The safe repair for the replica's state, if there is one. */
function repairFor(r: ReplicaStatusDto, now: number, primaryUpSince: number, graceMs: number): { repair: AutoRepairKind; why: string } | string {
  const errno = r.error?.errno ?? 0;
  if (r.state === 'IO_ERROR' && CONNECTION_ERRORS.has(errno)) return { repair: 'start-io', why: `IO thread stopped on connection error ${errno} while the primary answers` };
  if (r.state === 'IO_CONNECTING' && (errno === 0 || CONNECTION_ERRORS.has(errno))) {
    const stuckFor = now - Math.max(Date.parse(r.since), primaryUpSince);
    if (stuckFor < graceMs) return `IO thread connecting; waiting ${Math.ceil((graceMs - stuckFor) / 1000)} s more before restarting it`;
    return { repair: 'restart-io', why: `IO thread still connecting ${Math.round(stuckFor / 1000)} s after the primary answered (error ${errno})` };
  }
  if (r.state === 'SQL_ERROR' && LOCK_ERRORS.has(errno)) return { repair: 'restart-sql', why: `SQL thread stopped on lock error ${errno}: restarting it once` };
  if (r.error) return `error ${r.error.errno} is not repaired automatically: it waits for a person`;
  return `nothing to repair automatically in state ${r.state}`;
}

/**
 * The automation policy for one replica at one check (pure). Only two repairs exist: an IO thread stopped or
 * stuck on a connection error while the primary answers is started again, and an SQL thread stopped on a lock
 * timeout or deadlock is restarted once. Never anything while the primary is unreachable, never on data errors,
 * never skip, RESET or CHANGE MASTER; backoff and an hourly cap; an action that did not help turns automation
 * off for the replica.
 */
export function decide(r: ReplicaStatusDto, h: AutoHistory, now: number, primaryUpSince: number | null, s: AutoSettings): Decision {
  if (h.pending) {
    const { kind, at, confirmUntil } = h.pending;
    if (relapsed(r, kind)) return { kind: 'judge', repair: kind, helped: false, why: `${kind} at ${new Date(at).toISOString()} did not help: ${r.state} ${r.error?.errno ?? ''} again`.trim() };
    if (now < confirmUntil) return { kind: 'wait', why: `confirming ${kind}` };
    const ok = recovered(r, kind);
    return { kind: 'judge', repair: kind, helped: ok, why: ok ? `${kind} helped: replication kept running` : `${kind} at ${new Date(at).toISOString()} did not help: still ${r.state}` };
  }
  if (!s.enabled) return { kind: 'wait', why: 'automatic repair is off (REPL_AUTO_REPAIR=off)' };
  if (h.disabledReason) return { kind: 'wait', why: `automatic repair is off for this replica: ${h.disabledReason}` };
  if (primaryUpSince === null) return { kind: 'wait', why: 'the primary is unreachable: nothing is done automatically' };
  const found = repairFor(r, now, primaryUpSince, s.graceSeconds * 1000);
  if (typeof found === 'string') return { kind: 'wait', why: found };
  const recent = h.times.filter((t) => now - t < HOUR);
  if (recent.length >= s.maxPerHour) return { kind: 'wait', why: `hourly cap of ${s.maxPerHour} automatic actions reached` };
  const last = recent[recent.length - 1];
  const nextAllowed = last === undefined ? now : last + s.backoffSeconds * 1000 * 2 ** (recent.length - 1);
  if (now < nextAllowed) return { kind: 'wait', why: `backing off until ${new Date(nextAllowed).toISOString()}` };
  return { kind: 'act', repair: found.repair, statements: REPAIRS[found.repair], why: found.why };
}
