import type { AdminStatement } from '@vita/mariadb';
import { ident } from '../db/sql';

export interface Account {
  user: string;
  password: string;
}

/** What `provision` creates on the primary (replication carries it to the replicas). */
export interface ProvisionOptions {
  /** Vita's schema (copied by a rebuild, checksummed by the drift check). */
  dataSchema: string;
  /** Schema of the heartbeat table and the account view. */
  heartbeatSchema: string;
  /** Host part of both accounts, e.g. '%' or the repl-admin host. */
  userHost: string;
  monitor: Account;
  admin: Account;
}

/** READ ONLY ADMIN in the access bitmap of mysql.global_priv (MariaDB 10.11). */
const READ_ONLY_ADMIN_BIT = 2n ** 33n;

/**
 * Idempotent SQL, run as an administrator on the primary:
 * - `<heartbeat schema>.heartbeat`: one row per primary server_id, the newest heartbeat in ms;
 * - `<heartbeat schema>.account_privileges`: a DEFINER view listing which accounts have READ ONLY ADMIN, so the
 *   monitor can lint accounts without reading mysql.global_priv (which holds password hashes);
 * - the monitor account: SLAVE MONITOR (SHOW REPLICA STATUS), BINLOG MONITOR (SHOW BINARY LOGS), the heartbeat
 *   row and the view — nothing else (it cannot write on a read-only replica);
 * - the admin account: REPLICATION SLAVE ADMIN (STOP/START/CHANGE MASTER/RESET REPLICA, gtid_slave_pos),
 *   READ ONLY ADMIN (read_only, loading a rebuild), BINLOG ADMIN (sql_log_bin=0), RELOAD (RESET MASTER on a
 *   rebuilt replica), the two monitor privileges, and table rights on the Vita and heartbeat schemas only.
 */
export function provisionStatements(o: ProvisionOptions): AdminStatement[] {
  const hb = ident(o.heartbeatSchema);
  const data = ident(o.dataSchema);
  const to = (account: Account) => [account.user, o.userHost];
  const account = (a: Account): AdminStatement[] => [
    { sql: 'CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', params: [...to(a), a.password] },
    { sql: 'ALTER USER ?@? IDENTIFIED BY ?', params: [...to(a), a.password] },
  ];
  const grant = (what: string, on: string, a: Account): AdminStatement => ({ sql: `GRANT ${what} ON ${on} TO ?@?`, params: to(a) });
  const tableRights = 'SELECT, INSERT, CREATE, DROP, ALTER, INDEX, REFERENCES, LOCK TABLES';
  return [
    { sql: `CREATE DATABASE IF NOT EXISTS ${hb} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`, params: [] },
    { sql: `CREATE TABLE IF NOT EXISTS ${hb}.heartbeat (server_id INT UNSIGNED NOT NULL PRIMARY KEY, ts_ms BIGINT NOT NULL) ENGINE=InnoDB`, params: [] },
    {
      sql:
        `CREATE OR REPLACE SQL SECURITY DEFINER VIEW ${hb}.account_privileges AS ` +
        `SELECT User AS user, Host AS host, (CAST(JSON_VALUE(Priv, '$.access') AS UNSIGNED) & ${READ_ONLY_ADMIN_BIT}) <> 0 AS read_only_admin ` +
        "FROM mysql.global_priv WHERE Host <> ''",
      params: [],
    },
    ...account(o.monitor),
    grant('SLAVE MONITOR, BINLOG MONITOR', '*.*', o.monitor),
    grant('SELECT, INSERT, UPDATE', `${hb}.heartbeat`, o.monitor),
    grant('SELECT', `${hb}.account_privileges`, o.monitor),
    ...account(o.admin),
    grant('REPLICATION SLAVE ADMIN, SLAVE MONITOR, BINLOG MONITOR, BINLOG ADMIN, READ ONLY ADMIN, RELOAD', '*.*', o.admin),
    grant(tableRights, `${data}.*`, o.admin),
    grant(tableRights, `${hb}.*`, o.admin),
  ];
}

/** The settings provisioning reads, under the names repl-admin and its provision command both use. */
export interface ProvisionSettings {
  REPL_DB_NAME: string;
  REPL_HEARTBEAT_SCHEMA: string;
  REPL_USER_HOST: string;
  REPL_MONITOR_USER: string;
  REPL_MONITOR_PASSWORD: string;
  REPL_ADMIN_USER: string;
  REPL_ADMIN_PASSWORD: string;
}

export const provisionStatementsFor = (env: ProvisionSettings): AdminStatement[] =>
  provisionStatements({
    dataSchema: env.REPL_DB_NAME,
    heartbeatSchema: env.REPL_HEARTBEAT_SCHEMA,
    userHost: env.REPL_USER_HOST,
    monitor: { user: env.REPL_MONITOR_USER, password: env.REPL_MONITOR_PASSWORD },
    admin: { user: env.REPL_ADMIN_USER, password: env.REPL_ADMIN_PASSWORD },
  });
