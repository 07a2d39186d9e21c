import { replicaTlsClause } from '@vita/mariadb';
import type { Connection } from 'mariadb';
import { first, ident, type Param, qualified, run, Secret, stmt, type Stmt } from '../db/sql';

/** Where a rebuilt replica replicates from, and as whom. */
export interface ReplicationSource {
  host: string;
  port: number;
  /** null: keep the account the replica already has (RESET REPLICA keeps it, RESET REPLICA ALL would not). */
  credentials: { user: string; password: string } | null;
  connectRetry: number | null;
  /** The CA file on the replica's host (REPL_REPLICA_TLS_CA): replication over TLS, the primary's certificate and host name verified. */
  tlsCa: string | null;
}

export interface TableCopy {
  schema: string;
  table: string;
  /** SHOW CREATE TABLE on the primary (null in a dry run). */
  create: string | null;
  /** Every row of the snapshot (null in a dry run). */
  rows: Param[][] | null;
}

/** A consistent copy of the primary's schemas and the GTID position it was taken at (placeholders in a dry run). */
export interface Snapshot {
  gtid: string | null;
  databases: { schema: string; create: string | null }[];
  tables: TableCopy[];
}

/** A statement of the rebuild; `rows` makes it a multi-row insert run as one batch. */
export type RebuildStmt = Stmt & { rows?: Param[][] };

const BATCH = 500;
type Row = Record<string, unknown>;

/** Base tables of `schemas` on a server, in name order. */
export async function baseTables(conn: Connection, schemas: string[]): Promise<{ schema: string; table: string }[]> {
  const rows = await run<Row[]>(conn, {
    sql: `SELECT TABLE_SCHEMA AS s, TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA IN (${schemas.map(() => '?').join(', ')}) ORDER BY TABLE_SCHEMA, TABLE_NAME`,
    params: schemas,
  });
  return rows.map((r) => ({ schema: String(r['s']), table: String(r['t']) }));
}

/**
 * Reads a consistent snapshot on the primary in-process (what `mariadb-dump --single-transaction --gtid
 * --master-data` does): START TRANSACTION WITH CONSISTENT SNAPSHOT, the binlog position of that snapshot
 * (binlog_snapshot_file/position) turned into a GTID position by BINLOG_GTID_POS, then every table.
 */
export async function takeSnapshot(conn: Connection, schemas: string[]): Promise<Snapshot> {
  await run(conn, stmt("SET SESSION time_zone = '+00:00'"));
  await run(conn, stmt('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ'));
  await run(conn, stmt('START TRANSACTION WITH CONSISTENT SNAPSHOT'));
  try {
    const status = new Map((await run<Row[]>(conn, stmt("SHOW STATUS LIKE 'binlog_snapshot_%'"))).map((r) => [String(r['Variable_name']), String(r['Value'])]));
    const file = status.get('Binlog_snapshot_file');
    const pos = status.get('Binlog_snapshot_position');
    if (!file || !pos) throw new Error('the primary reports no binlog snapshot position (is the binary log on?)');
    const gtid = String((await first<Row>(conn, stmt('SELECT BINLOG_GTID_POS(?, ?) AS g', file, Number(pos))))?.['g'] ?? '');
    const present = new Set((await run<Row[]>(conn, stmt('SHOW DATABASES'))).map((r) => String(r['Database'])));
    const databases = await Promise.all(
      schemas.filter((s) => present.has(s)).map(async (schema) => ({ schema, create: String((await first<Row>(conn, stmt(`SHOW CREATE DATABASE ${ident(schema)}`)))?.['Create Database']) })),
    );
    const tables: TableCopy[] = [];
    for (const { schema, table } of await baseTables(conn, schemas)) {
      const create = String((await first<Row>(conn, stmt(`SHOW CREATE TABLE ${qualified(schema, table)}`)))?.['Create Table']);
      const rows = await conn.query<Param[][]>({ sql: `SELECT * FROM ${qualified(schema, table)}`, rowsAsArray: true });
      tables.push({ schema, table, create, rows: [...rows] });
    }
    return { gtid, databases, tables };
  } finally {
    await run(conn, stmt('COMMIT'));
  }
}

/** The shape of the snapshot a dry run would take: the primary's schemas and tables, no data. */
export const previewSnapshot = (databases: string[], tables: { schema: string; table: string }[]): Snapshot => ({
  gtid: null,
  databases: databases.map((schema) => ({ schema, create: null })),
  tables: tables.map((t) => ({ ...t, create: null, rows: null })),
});

const createTable = (t: TableCopy): Stmt =>
  t.create === null
    ? { sql: '', display: `CREATE TABLE ${qualified(t.schema, t.table)} (…as SHOW CREATE TABLE on the primary…)` }
    : stmt(t.create.replace(/^CREATE TABLE `(?:[^`]|``)+`/, `CREATE TABLE ${qualified(t.schema, t.table)}`));

function inserts(t: TableCopy): RebuildStmt[] {
  const target = qualified(t.schema, t.table);
  if (t.rows === null) return [{ sql: '', display: `INSERT INTO ${target} VALUES (…) -- every row of the snapshot` }];
  const width = t.rows[0]?.length ?? 0;
  const sql = `INSERT INTO ${target} VALUES (${Array(width).fill('?').join(', ')})`;
  const out: RebuildStmt[] = [];
  for (let i = 0; i < t.rows.length; i += BATCH) {
    const rows = t.rows.slice(i, i + BATCH);
    out.push({ sql, rows, display: `INSERT INTO ${target} VALUES (…) -- rows ${i + 1}-${i + rows.length} of the snapshot` });
  }
  return out;
}

/**
 * Everything run on the replica, in order: stop and forget replication, replace the copied schemas' tables
 * without binlogging (sql_log_bin=0: no errant GTIDs; the admin account's READ ONLY ADMIN lets it write while
 * read_only stays ON), clear the replica's own binlog (RESET MASTER: gtid_strict_mode would otherwise refuse the
 * primary's GTIDs after leftovers), set gtid_slave_pos to the snapshot's position, CHANGE MASTER … slave_pos, start.
 */
export function rebuildStatements(snapshot: Snapshot, onReplica: { schema: string; table: string }[], source: ReplicationSource): RebuildStmt[] {
  const change: string[] = ['MASTER_HOST=?', 'MASTER_PORT=?'];
  const params: Param[] = [source.host, source.port];
  if (source.credentials) {
    change.push('MASTER_USER=?', 'MASTER_PASSWORD=?');
    params.push(source.credentials.user, new Secret(source.credentials.password));
  }
  if (source.connectRetry) {
    change.push('MASTER_CONNECT_RETRY=?');
    params.push(source.connectRetry);
  }
  if (source.tlsCa) {
    const tls = replicaTlsClause({ ca: source.tlsCa });
    change.push(tls.sql.replace(/^, /, ''));
    params.push(...tls.params);
  }
  const position: Stmt = snapshot.gtid === null ? { sql: '', display: "SET GLOBAL gtid_slave_pos = '<GTID position of the snapshot>'" } : stmt('SET GLOBAL gtid_slave_pos = ?', snapshot.gtid);
  return [
    stmt('STOP REPLICA'),
    stmt(source.credentials ? 'RESET REPLICA ALL' : 'RESET REPLICA'),
    stmt('SET SESSION sql_log_bin = 0'),
    stmt('SET SESSION foreign_key_checks = 0'),
    stmt("SET SESSION time_zone = '+00:00'"),
    ...onReplica.map((t) => stmt(`DROP TABLE IF EXISTS ${qualified(t.schema, t.table)}`)),
    ...snapshot.databases.map((d) => (d.create === null ? stmt(`CREATE DATABASE IF NOT EXISTS ${ident(d.schema)}`) : stmt(d.create.replace(/^CREATE DATABASE /, 'CREATE DATABASE IF NOT EXISTS ')))),
    ...snapshot.tables.flatMap((t) => [createTable(t), ...inserts(t)]),
    stmt('RESET MASTER'),
    position,
    { sql: `CHANGE MASTER TO ${[...change, 'MASTER_USE_GTID=slave_pos'].join(', ')}`, params },
    stmt('START REPLICA'),
  ];
}

/** Runs the rebuild's statements on the replica (multi-row inserts as batches). */
export async function applyOnReplica(conn: Connection, statements: RebuildStmt[]): Promise<void> {
  for (const s of statements) {
    if (s.rows) await conn.batch(s.sql, s.rows);
    else await run(conn, s);
  }
}
