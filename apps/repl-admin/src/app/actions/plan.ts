import type { PreconditionDto, ReplicaStatusDto, TopologyDto } from '@vita/contracts';
import type { ReplConfig } from '../config/config';
import type { ServerConfig } from '../config/servers';
import type { Db } from '../db/db.service';
import type { Stmt } from '../db/sql';

/** What a manual action would do: its checks, its statements, and how to run them. */
export interface Plan<R = never> {
  preconditions: PreconditionDto[];
  statements: Stmt[];
  /** Runs the action; returns a one-line outcome, the statements actually run, and what it found. */
  execute(): Promise<{ message: string; statements: Stmt[]; result?: R }>;
}

export interface PlanContext {
  config: ReplConfig;
  db: Db;
  topology: TopologyDto;
  server: ServerConfig;
  /** null when the target is the primary (every action refuses it). */
  replica: ReplicaStatusDto | null;
  /** `tlsCa`: the CA file on the replica's host a rebuild replicates with (a joining node names its own), else REPL_REPLICA_TLS_CA. */
  body: { host?: string; port?: number; force?: boolean; tlsCa?: string };
}

export const check = (name: string, ok: boolean, okDetail: string, failDetail: string): PreconditionDto => ({ check: name, ok, detail: ok ? okDetail : failDetail });

/** Checks every action shares: the target is a reachable replica. */
export function replicaChecks(c: PlanContext): PreconditionDto[] {
  const r = c.replica;
  return [
    check('is a replica', r !== null, `${c.server.name} is a replica`, `${c.server.name} is the primary: replica actions never touch it`),
    check('replica reachable', r?.reachable === true, `${c.server.name} answers`, `${c.server.name} cannot be read: ${r?.unreachableReason ?? 'it is the primary'}`),
  ];
}

export const primaryUp = (c: PlanContext): PreconditionDto =>
  check('primary reachable', c.topology.primary.reachable, `${c.topology.primary.name} answers`, `${c.topology.primary.name} is unreachable: nothing is done to replication while the primary is down`);

