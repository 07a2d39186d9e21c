import type { DriftReportDto, DriftTableDto } from '@vita/contracts';
import type { Connection } from 'mariadb';
import { check, type Plan, type PlanContext, primaryUp, replicaChecks } from '../actions/plan';
import { baseTables } from '../actions/rebuild';
import { first, qualified, run, stmt, type Stmt } from '../db/sql';

type Row = Record<string, unknown>;

/** CHECKSUM TABLE of each table; null for a table the server does not have. */
export async function checksums(conn: Connection, schema: string, tables: string[]): Promise<Map<string, number | null>> {
  if (tables.length === 0) return new Map();
  const rows = await run<Row[]>(conn, stmt(`CHECKSUM TABLE ${tables.map((t) => qualified(schema, t)).join(', ')}`));
  return new Map(rows.map((r) => [String(r['Table']).slice(schema.length + 1), r['Checksum'] === null ? null : Number(r['Checksum'])]));
}

export const tablesOf = async (conn: Connection, schema: string): Promise<string[]> => (await baseTables(conn, [schema])).map((t) => t.table);

/**
 * The primary side of a drift check: with every table of the schema read-locked (no write can slip in), the
 * GTID position and the checksums. `compare` runs while the lock is held, so the replica can be checksummed once
 * it reaches that position and both sides describe the same point of the schema's history.
 */
export async function underReadLock<T>(conn: Connection, schema: string, compare: (position: string, tables: string[], primary: Map<string, number | null>) => Promise<T>): Promise<T> {
  const tables = await tablesOf(conn, schema);
  if (tables.length > 0) await run(conn, stmt(`LOCK TABLES ${tables.map((t) => `${qualified(schema, t)} READ`).join(', ')}`));
  try {
    const position = String((await run<Row[]>(conn, stmt('SELECT @@GLOBAL.gtid_binlog_pos AS p')))[0]?.['p'] ?? '');
    return await compare(position, tables, await checksums(conn, schema, tables));
  } finally {
    if (tables.length > 0) await run(conn, stmt('UNLOCK TABLES'));
  }
}

/** Compares both sides table by table; a table on one side only is a difference. */
export function driftReport(replica: string, position: string, primary: Map<string, number | null>, other: Map<string, number | null>, started: number): DriftReportDto {
  const names = [...new Set([...primary.keys(), ...other.keys()])].sort();
  const tables: DriftTableDto[] = names.map((table) => {
    const p = primary.get(table) ?? null;
    const r = other.get(table) ?? null;
    return { table, primary: p, replica: r, match: p !== null && p === r };
  });
  const differences = tables.filter((t) => !t.match).map((t) => t.table);
  return { replica, gtidPosition: position, checkedAt: new Date().toISOString(), durationMs: Date.now() - started, ok: differences.length === 0, differences, tables };
}

/** The statements a drift check runs, for the audit log. */
export const driftStatements = (schema: string, tables: string[], position: string, waitSeconds: number): Stmt[] => {
  const list = tables.map((t) => qualified(schema, t)).join(', ');
  return [
    stmt(`LOCK TABLES ${tables.map((t) => `${qualified(schema, t)} READ`).join(', ')}`),
    stmt('SELECT @@GLOBAL.gtid_binlog_pos'),
    stmt(`CHECKSUM TABLE ${list}`),
    stmt('SELECT MASTER_GTID_WAIT(?, ?) -- on the replica', position, waitSeconds),
    stmt(`CHECKSUM TABLE ${list} -- on the replica`),
    stmt('UNLOCK TABLES'),
  ];
};

/**
 * Drift check as a plan: CHECKSUM TABLE of every table of the Vita schema on the primary (tables read-locked, so
 * the position is exact) and on the replica once it has applied that position (MASTER_GTID_WAIT), by table.
 */
export function planDrift(c: PlanContext): Plan<DriftReportDto> {
  const r = c.replica;
  const schema = c.config.env.REPL_DB_NAME;
  const limit = c.config.env.REPL_ACTION_TIMEOUT_MS;
  const waitSeconds = Math.max(1, Math.floor(limit / 2000));
  const started = Date.now();
  return {
    preconditions: [
      ...replicaChecks(c),
      primaryUp(c),
      // A diverged replica stops at the primary's next GTID (gtid_strict_mode): it may never reach the position.
      check('replicating', r?.ioThread === 'Yes' && r.sqlThread === 'Yes' && r.state !== 'DIVERGED', 'the replica applies the primary\'s changes', `the replica must be replicating, without errant transactions, to reach the primary's position (it is ${r?.state ?? 'the primary'})`),
    ],
    statements: driftStatements(schema, ['…every table…'], '<primary gtid_binlog_pos>', waitSeconds),
    execute: async () => {
      const report = await c.db.with(c.config.servers.primary, 'admin', (conn) =>
        underReadLock(conn, schema, (position, tables, primarySums) =>
          c.db.with(c.server, 'admin', async (rconn) => {
            const reached = await first<{ w: number }>(rconn, stmt('SELECT MASTER_GTID_WAIT(?, ?) AS w', position, waitSeconds));
            if (Number(reached?.w) !== 0) throw new Error(`the replica did not reach the primary's position ${position} within ${waitSeconds} s`);
            const names = [...new Set([...tables, ...(await tablesOf(rconn, schema))])];
            return driftReport(c.server.name, position, primarySums, await checksums(rconn, schema, names), started);
          }, limit),
        ), limit);
      return {
        message: report.ok ? `no difference in ${report.tables.length} tables at ${report.gtidPosition}` : `${report.differences.length} tables differ: ${report.differences.join(', ')}`,
        statements: driftStatements(schema, report.tables.map((t) => t.table), report.gtidPosition, waitSeconds),
        result: report,
      };
    },
  };
}
