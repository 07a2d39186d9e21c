import type { AdminStatement } from '@vita/mariadb';

/** The three least-privilege database users of the api and what each may do. */
export interface ProvisionOptions {
  database: string;
  /** Host part of the accounts, e.g. '%' or '127.0.0.1'. */
  userHost: string;
  reader: { user: string; password: string };
  writer: { user: string; password: string };
  migrator: { user: string; password: string };
  /** Schema of repl-admin's heartbeat table (default `repl_admin`), which the reader may read. */
  heartbeatSchema?: string;
}

/**
 * Creates (or re-keys) the database and the api's users on the primary; replication carries them to
 * the replicas. Run again at any time: every statement is idempotent.
 * - reader: SELECT on the schema, SLAVE MONITOR to see its own replication status, and SELECT on
 *   repl-admin's heartbeat table (created here when repl-admin has not provisioned it yet, with
 *   repl-admin's own definition) to judge what a replica has applied;
 * - writer: row changes only, no DDL;
 * - migrator: DDL on the schema only, used by `nx run api:migrate`.
 */
export function provisionStatements(o: ProvisionOptions): AdminStatement[] {
  const db = `\`${o.database.replace(/`/g, '')}\``;
  const hb = `\`${(o.heartbeatSchema ?? 'repl_admin').replace(/`/g, '')}\``;
  const accounts: [ProvisionOptions['reader'], string[]][] = [
    [o.reader, [`GRANT SELECT ON ${db}.* TO ?@?`, 'GRANT SLAVE MONITOR ON *.* TO ?@?', `GRANT SELECT ON ${hb}.heartbeat TO ?@?`]],
    [o.writer, [`GRANT SELECT, INSERT, UPDATE, DELETE ON ${db}.* TO ?@?`]],
    [o.migrator, [`GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES ON ${db}.* TO ?@?`]],
  ];
  const statements: AdminStatement[] = [
    { sql: `CREATE DATABASE IF NOT EXISTS ${db} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`, params: [] },
    { sql: `CREATE DATABASE IF NOT EXISTS ${hb} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`, params: [] },
    { sql: `CREATE TABLE IF NOT EXISTS ${hb}.heartbeat (server_id INT UNSIGNED NOT NULL PRIMARY KEY, ts_ms BIGINT NOT NULL) ENGINE=InnoDB`, params: [] },
  ];
  for (const [account, grants] of accounts) {
    const who = [account.user, o.userHost];
    statements.push(
      { sql: 'CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', params: [...who, account.password] },
      { sql: 'ALTER USER ?@? IDENTIFIED BY ?', params: [...who, account.password] },
      ...grants.map((sql) => ({ sql, params: who })),
    );
  }
  return statements;
}
