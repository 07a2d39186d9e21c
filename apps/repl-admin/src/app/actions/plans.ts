import type { PreconditionDto, ReplicaStatusDto } from '@vita/contracts';
import { waitFor } from '@vita/mariadb';
import type { Connection } from 'mariadb';
import { address, type ServerConfig } from '../config/servers';
import { RAW_VALUES } from '../db/db.service';
import { errantGtids, formatGtids, purgedPast } from '../db/gtid';
import { describeError, first, run, stmt, type Stmt } from '../db/sql';
import { type ReplicaThreads, readOldestBinlog, readVars, showReplicaStatus, type ServerVars } from '../monitor/probe';
import { check, type Plan, type PlanContext, primaryUp, replicaChecks } from './plan';
import { applyOnReplica, baseTables, previewSnapshot, rebuildStatements, type ReplicationSource, takeSnapshot } from './rebuild';

const HEALTHY = new Set(['OK', 'LAGGING']);

const notDiverged = (r: ReplicaStatusDto | null): PreconditionDto =>
  check('not diverged', r?.state !== 'DIVERGED', 'no errant transaction', 'the replica has transactions the primary never had: rebuild it instead');

const positionAvailable = (r: ReplicaStatusDto | null): PreconditionDto => {
  const purged = r?.warnings.find((w) => w.code === 'BINLOG_PURGED');
  return check('position still in the primary\'s binlogs', !purged, 'the primary still has every event the replica needs', `${purged?.message ?? ''}`);
};

/** Waits (bounded) until both replication threads run; fails at once when a thread stops with an error. */
async function waitRunning(c: PlanContext, timeoutMs = 15_000): Promise<string> {
  let last: ReplicaThreads | null = null;
  return waitFor(
    async () => {
      const t = (last = await c.db.with(c.server, 'admin', showReplicaStatus));
      if (!t) throw new Error('the replica has no replication configured');
      if (t.ioRunning === 'Yes' && t.sqlRunning === 'Yes') return 'replication is running';
      if (t.sqlRunning === 'No' && t.lastSqlErrno) throw new Error(`replication stopped again: SQL error ${t.lastSqlErrno}: ${t.lastSqlError}`);
      if (t.ioRunning === 'No' && t.lastIoErrno) throw new Error(`replication stopped again: IO error ${t.lastIoErrno}: ${t.lastIoError}`);
      return undefined;
    },
    timeoutMs,
    () => new Error(`replication is not running ${timeoutMs / 1000} s later (IO thread ${last?.ioRunning}, SQL thread ${last?.sqlRunning})`),
    250,
  );
}

const runAll = (c: PlanContext, statements: Stmt[]) =>
  c.db.with(c.server, 'admin', async (conn) => {
    for (const s of statements) await run(conn, s);
  }, c.config.env.REPL_ACTION_TIMEOUT_MS);

/** Runs the statements, then checks replication runs. */
const andVerify = (c: PlanContext, statements: Stmt[]) => async () => {
  await runAll(c, statements);
  return { message: await waitRunning(c), statements };
};

/** Restart replication: STOP REPLICA; START REPLICA — never while the primary is down, never to paper over a purged position. */
export function planRestart(c: PlanContext): Plan {
  const r = c.replica;
  const statements = [stmt('STOP REPLICA'), stmt('START REPLICA')];
  return {
    preconditions: [
      ...replicaChecks(c),
      check('replication configured', r?.state !== 'UNCONFIGURED', 'replication is configured', 'nothing to restart: the replica has no source (rebuild it)'),
      primaryUp(c),
      notDiverged(r),
      positionAvailable(r),
      check('needs a restart', r?.state !== 'OK', `state is ${r?.state}`, 'replication is running and current: nothing to restart'),
    ],
    statements,
    execute: andVerify(c, statements),
  };
}

interface TargetFacts {
  vars: ServerVars | null;
  oldest: { file: string; startsAfter: string } | null;
  error: string | null;
}

async function readTarget(c: PlanContext, target: ServerConfig): Promise<TargetFacts> {
  try {
    return await c.db.with(target, 'monitor', async (conn: Connection) => ({ vars: await readVars(conn), oldest: await readOldestBinlog(conn).catch(() => null), error: null }));
  } catch (err) {
    return { vars: null, oldest: null, error: describeError(err) };
  }
}

/** Re-point a replica at another source (the configured primary by default), keeping its GTID position. */
export async function planRepoint(c: PlanContext): Promise<Plan> {
  // Checked through repl-admin's own address of the target; pointed at as the replicas reach it.
  const given = c.body.host !== undefined || c.body.port !== undefined;
  const { host, port } = given ? { host: c.body.host ?? c.config.replicationSource.host, port: c.body.port ?? 3306 } : c.config.replicationSource;
  const target: ServerConfig = given ? { name: `${host}:${port}`, host, port, node: null, role: 'primary' } : c.config.servers.primary;
  const r = c.replica;
  const [t, own] = await Promise.all([readTarget(c, target), r?.reachable ? c.db.with(c.server, 'monitor', readVars).catch(() => null) : null]);
  const errant = t.vars && own ? errantGtids(own.gtidBinlogState, t.vars.gtidBinlogState, t.vars.gtidBinlogPos) : [];
  const purged = t.oldest && own ? purgedPast(own.gtidSlavePos, t.oldest.startsAfter) : [];
  const statements = [stmt('STOP REPLICA'), stmt('CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=?, MASTER_USE_GTID=slave_pos', host, port), stmt('START REPLICA')];
  return {
    preconditions: [
      ...replicaChecks(c),
      check('target reachable', t.vars !== null, `${address(target)} answers`, `${address(target)} cannot be read: ${t.error}`),
      check('target is a primary', t.vars?.readOnly === false && t.vars.logBin, `${address(target)} is writable and binlogs`, `${address(target)} is read_only or does not binlog: not a primary`),
      check('target is another server', t.vars?.serverId !== r?.serverId, 'different server_id', `${address(target)} is the replica itself (same server_id)`),
      check('no errant transaction against the target', errant.length === 0, 'the replica has nothing the target lacks', `the replica has transactions the target never had: ${formatGtids(errant)}`),
      check('position in the target\'s binlogs', purged.length === 0, 'the target still has every event the replica needs', `the target's oldest binlog starts after ${formatGtids(purged)}: rebuild instead`),
    ],
    statements,
    execute: andVerify(c, statements),
  };
}

/** Enforce read_only on a replica. */
export function planReadOnly(c: PlanContext): Plan {
  const statements = [stmt('SET GLOBAL read_only = ?', true)];
  return {
    preconditions: [...replicaChecks(c), check('read_only is OFF', c.replica?.readOnly === false, 'read_only is OFF', 'read_only is already ON: nothing to do')],
    statements,
    execute: async () => {
      await runAll(c, statements);
      const on = await c.db.with(c.server, 'admin', (conn) => first<{ ro: number }>(conn, stmt('SELECT @@GLOBAL.read_only AS ro')));
      if (on?.ro !== 1) throw new Error('read_only is still OFF after SET GLOBAL');
      return { message: 'read_only is ON', statements };
    },
  };
}

/** Rebuild a replica from a consistent snapshot of the primary, then verify it caught up. */
export async function planRebuild(c: PlanContext): Promise<Plan> {
  const env = c.config.env;
  const r = c.replica;
  const schemas = [env.REPL_DB_NAME, env.REPL_HEARTBEAT_SCHEMA];
  const primary = c.config.servers.primary;
  const current = r?.reachable ? await c.db.with(c.server, 'admin', showReplicaStatus).catch(() => null) : null;
  const credentials = env.REPL_REPLICATION_USER ? { user: env.REPL_REPLICATION_USER, password: env.REPL_REPLICATION_PASSWORD ?? '' } : null;
  const source: ReplicationSource = {
    ...c.config.replicationSource,
    credentials,
    connectRetry: current?.connectRetry || null,
    tlsCa: c.body.tlsCa ?? env.REPL_REPLICA_TLS_CA ?? null,
  };
  const shape = c.topology.primary.reachable && r?.reachable
    ? await Promise.all([c.db.with(primary, 'admin', (conn) => baseTables(conn, schemas)), c.db.with(c.server, 'admin', (conn) => baseTables(conn, schemas))]).catch(() => null)
    : null;
  const preview = rebuildStatements(previewSnapshot(schemas, shape?.[0] ?? []), shape?.[1] ?? [], source);
  const snapshotStep: Stmt = { sql: '', display: `-- on ${primary.name}: START TRANSACTION WITH CONSISTENT SNAPSHOT; BINLOG_GTID_POS of binlog_snapshot_file/position; SELECT * from every table of ${schemas.join(', ')}` };
  const verifyStep: Stmt = { sql: '', display: `SELECT MASTER_GTID_WAIT('<primary gtid_binlog_pos>', …) -- then both threads must run` };
  return {
    preconditions: [
      ...replicaChecks(c),
      primaryUp(c),
      check('replica needs it', !HEALTHY.has(r?.state ?? '') || c.body.force === true, `state is ${r?.state}${c.body.force ? ' (forced)' : ''}`, `the replica is ${r?.state}: pass "force": true to rebuild a healthy replica`),
      check('replication account', credentials !== null || Boolean(current?.masterUser), credentials ? `REPL_REPLICATION_USER ${credentials.user}` : `keeps ${current?.masterUser}`, 'the replica has no replication account and REPL_REPLICATION_USER is not set'),
      check('schemas readable', shape !== null, `${schemas.join(', ')} readable on both servers`, 'cannot list the tables to copy on the primary or the replica'),
    ],
    statements: [snapshotStep, ...preview, verifyStep],
    execute: async () => {
      const limit = env.REPL_ACTION_TIMEOUT_MS;
      const snapshot = await c.db.with(primary, 'admin', (conn) => takeSnapshot(conn, schemas), limit, RAW_VALUES);
      const statements = await c.db.with(c.server, 'admin', async (conn) => {
        const list = rebuildStatements(snapshot, await baseTables(conn, schemas), source);
        await applyOnReplica(conn, list);
        return list;
      }, limit, RAW_VALUES);
      const target = String((await c.db.with(primary, 'monitor', readVars)).gtidBinlogPos);
      const waited = await c.db.with(c.server, 'admin', (conn) => first<{ w: number }>(conn, stmt('SELECT MASTER_GTID_WAIT(?, ?) AS w', target, Math.ceil(limit / 2000))), limit);
      if (Number(waited?.w) !== 0) throw new Error(`the rebuilt replica did not reach the primary's position ${target}`);
      const running = await waitRunning(c);
      const rows = snapshot.tables.reduce((n, t) => n + (t.rows?.length ?? 0), 0);
      return {
        message: `rebuilt from the snapshot at ${snapshot.gtid || '(empty position)'}: ${snapshot.tables.length} tables, ${rows} rows; caught up with ${target}; ${running}`,
        statements: [{ ...snapshotStep, display: `-- on ${primary.name}: consistent snapshot at GTID ${snapshot.gtid || '(empty)'}` }, ...statements, stmt('SELECT MASTER_GTID_WAIT(?, ?)', target, Math.ceil(limit / 2000))],
      };
    },
  };
}

