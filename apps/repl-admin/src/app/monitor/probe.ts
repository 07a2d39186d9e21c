import type { Connection } from 'mariadb';
import type { ReplConfig } from '../config/config';
import type { ServerConfig } from '../config/servers';
import { describeError, first, ident, run, stmt } from '../db/sql';

/** Server settings read on every check (no privilege needed). */
export interface ServerVars {
  serverId: number;
  readOnly: boolean;
  binlogFormat: string;
  gtidStrictMode: boolean;
  logBin: boolean;
  logSlaveUpdates: boolean;
  binlogExpireSeconds: number;
  gtidBinlogPos: string;
  gtidBinlogState: string;
  gtidSlavePos: string;
}

/** The SHOW REPLICA STATUS columns repl-admin uses, read by name. */
export interface ReplicaThreads {
  ioRunning: string;
  sqlRunning: string;
  lastIoErrno: number;
  lastIoError: string;
  lastSqlErrno: number;
  lastSqlError: string;
  secondsBehindMaster: number | null;
  masterHost: string;
  masterPort: number;
  masterUser: string;
  connectRetry: number;
  gtidIoPos: string;
  usingGtid: string;
}

export interface ServerProbe {
  server: ServerConfig;
  reachable: boolean;
  unreachableReason: string | null;
  vars: ServerVars | null;
  /** null: no replication configured (or not a replica). */
  threads: ReplicaThreads | null;
  /** Newest heartbeat (ms since the epoch, repl-admin's clock) in this server's copy of the table. */
  heartbeatMs: number | null;
  heartbeatError: string | null;
  /** Primary only: the oldest binlog and the GTID state it starts after. */
  oldestBinlog: { file: string; startsAfter: string } | null;
  binlogError: string | null;
  /** Primary only: accounts that can write on a read-only server (READ ONLY ADMIN). */
  bypassAccounts: string[] | null;
  accountsError: string | null;
}

const VARS = stmt(
  'SELECT @@server_id AS serverId, @@read_only AS readOnly, @@binlog_format AS binlogFormat, @@gtid_strict_mode AS gtidStrictMode, ' +
    '@@log_bin AS logBin, @@log_slave_updates AS logSlaveUpdates, @@binlog_expire_logs_seconds AS binlogExpireSeconds, ' +
    '@@gtid_binlog_pos AS gtidBinlogPos, @@gtid_binlog_state AS gtidBinlogState, @@gtid_slave_pos AS gtidSlavePos',
);

type Row = Record<string, unknown>;
const str = (row: Row, col: string): string => (row[col] === null || row[col] === undefined ? '' : String(row[col]));
const num = (row: Row, col: string): number => Number(row[col] ?? 0);

/** SHOW REPLICA STATUS by column name (never by position); null when no replication is configured. */
export function readThreads(row: Row | undefined): ReplicaThreads | null {
  if (!row || !str(row, 'Master_Host')) return null;
  const sbm = row['Seconds_Behind_Master'];
  return {
    ioRunning: str(row, 'Slave_IO_Running'),
    sqlRunning: str(row, 'Slave_SQL_Running'),
    lastIoErrno: num(row, 'Last_IO_Errno'),
    lastIoError: str(row, 'Last_IO_Error'),
    lastSqlErrno: num(row, 'Last_SQL_Errno'),
    lastSqlError: str(row, 'Last_SQL_Error'),
    secondsBehindMaster: sbm === null || sbm === undefined ? null : Number(sbm),
    masterHost: str(row, 'Master_Host'),
    masterPort: num(row, 'Master_Port'),
    masterUser: str(row, 'Master_User'),
    connectRetry: num(row, 'Connect_Retry'),
    gtidIoPos: str(row, 'Gtid_IO_Pos'),
    usingGtid: str(row, 'Using_Gtid'),
  };
}

/** A part of the probe that may fail on its own (missing table or privilege) without making the server unreachable. */
async function optional<T>(work: () => Promise<T>): Promise<[T | null, string | null]> {
  try {
    return [await work(), null];
  } catch (err) {
    return [null, describeError(err)];
  }
}

export const readVars = async (conn: Connection): Promise<ServerVars> => {
  const row = (await first<Row>(conn, VARS)) ?? {};
  return {
    serverId: num(row, 'serverId'),
    readOnly: num(row, 'readOnly') === 1,
    binlogFormat: str(row, 'binlogFormat'),
    gtidStrictMode: num(row, 'gtidStrictMode') === 1,
    logBin: num(row, 'logBin') === 1,
    logSlaveUpdates: num(row, 'logSlaveUpdates') === 1,
    binlogExpireSeconds: num(row, 'binlogExpireSeconds'),
    gtidBinlogPos: str(row, 'gtidBinlogPos'),
    gtidBinlogState: str(row, 'gtidBinlogState'),
    gtidSlavePos: str(row, 'gtidSlavePos'),
  };
};

/** The oldest binlog on a server and the GTID state it starts after (BINLOG_GTID_POS at its first event). */
export async function readOldestBinlog(conn: Connection): Promise<{ file: string; startsAfter: string }> {
  const oldest = await first<Row>(conn, stmt('SHOW BINARY LOGS'));
  if (!oldest) throw new Error('no binary logs');
  const file = str(oldest, 'Log_name');
  const pos = await first<Row>(conn, stmt('SELECT BINLOG_GTID_POS(?, 4) AS pos', file));
  return { file, startsAfter: str(pos ?? {}, 'pos') };
}

export const showReplicaStatus = async (conn: Connection): Promise<ReplicaThreads | null> => readThreads(await first<Row>(conn, stmt('SHOW REPLICA STATUS')));

/** Everything one check reads from one server, as the monitor user, on one connection. */
export async function probeServer(conn: Connection, server: ServerConfig, config: ReplConfig): Promise<ServerProbe> {
  const schema = ident(config.env.REPL_HEARTBEAT_SCHEMA);
  const vars = await readVars(conn);
  const threads = server.role === 'replica' ? await showReplicaStatus(conn) : null;
  const [heartbeat, heartbeatError] = await optional(async () => {
    const row = await first<Row>(conn, stmt(`SELECT MAX(ts_ms) AS ts FROM ${schema}.heartbeat`));
    return row?.['ts'] === null || row?.['ts'] === undefined ? null : Number(row['ts']);
  });
  const primary = server.role === 'primary';
  const [oldestBinlog, binlogError] = primary ? await optional(() => readOldestBinlog(conn)) : [null, null];
  const [bypassAccounts, accountsError] = primary
    ? await optional(async () => (await run<Row[]>(conn, stmt(`SELECT user, host FROM ${schema}.account_privileges WHERE read_only_admin`)))
        .map((r) => `${str(r, 'user')}@${str(r, 'host')}`))
    : [null, null];
  return { server, reachable: true, unreachableReason: null, vars, threads, heartbeatMs: heartbeat, heartbeatError, oldestBinlog, binlogError, bypassAccounts, accountsError };
}

export const unreachable = (server: ServerConfig, reason: string): ServerProbe => ({
  server,
  reachable: false,
  unreachableReason: reason,
  vars: null,
  threads: null,
  heartbeatMs: null,
  heartbeatError: null,
  oldestBinlog: null,
  binlogError: null,
  bypassAccounts: null,
  accountsError: null,
});
