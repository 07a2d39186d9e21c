import { resolve } from 'node:path';
import type { MariaServer } from './server';

export interface ReplicaOptions {
  user: string;
  password: string;
  /** MASTER_CONNECT_RETRY, seconds between reconnect attempts (default 1). */
  connectRetrySeconds?: number;
  /** slave_net_timeout, seconds without data before the replica reconnects (default 5; heartbeat at half of it). */
  netTimeoutSeconds?: number;
  /** MASTER_HOST (default: the primary's address). With `tls` it must be in the primary certificate's subjectAltName. */
  host?: string;
  /**
   * Replicate over TLS, verifying the primary's certificate against `ca` and its host name
   * (MASTER_SSL=1, MASTER_SSL_CA, MASTER_SSL_VERIFY_SERVER_CERT=1); `cert` and `key` are the
   * replica's own certificate, for an account created with REQUIRE X509.
   */
  tls?: ReplicaTls;
}

export interface ReplicaTls {
  ca: string;
  cert?: string;
  key?: string;
}

export interface ReplicationUserOptions {
  /** REQUIRE SSL (TLS only) or REQUIRE X509 (TLS with a client certificate the server trusts). */
  requireSsl?: 'SSL' | 'X509';
}

type Statement = [sql: string, params?: unknown[]];

/** Runs admin statements in order; errors name the server and step but never echo `secret`. */
async function runAdmin(server: MariaServer, step: string, statements: Statement[], secret: string): Promise<void> {
  for (const [sql, params] of statements) {
    try {
      await server.query(sql, params);
    } catch (e) {
      const err = e as { code?: string; text?: string; message: string };
      // The server may quote the statement (syntax errors): drop its text when the statement carries the secret.
      const detail = params?.includes(secret) ? '(details withheld: statement carries a password)' : (err.text ?? err.message.split('\n')[0]);
      throw new Error(`${step} on ${server.name} failed: ${err.code ?? 'error'}: ${detail}`);
    }
  }
}

/** (Re)creates `user`@'%' with REPLICATION SLAVE on the primary (the statement replicates too). */
export async function createReplicationUser(primary: MariaServer, user: string, password: string, opts: ReplicationUserOptions = {}): Promise<void> {
  const require = opts.requireSsl ? ` REQUIRE ${opts.requireSsl === 'X509' ? 'X509' : 'SSL'}` : '';
  await runAdmin(
    primary,
    'createReplicationUser',
    [
      [`CREATE OR REPLACE USER ?@'%' IDENTIFIED BY ?${require}`, [user, password]],
      ["GRANT REPLICATION SLAVE ON *.* TO ?@'%'", [user]],
    ],
    password,
  );
}

/** Points `replica` at `primary` with GTID replication (MASTER_USE_GTID=slave_pos) and starts it. */
export async function configureReplica(replica: MariaServer, primary: MariaServer, opts: ReplicaOptions): Promise<void> {
  const netTimeout = opts.netTimeoutSeconds ?? 5;
  const tls = replicaTlsClause(opts.tls);
  await runAdmin(
    replica,
    'configureReplica',
    [
      ['STOP SLAVE'],
      ['SET GLOBAL slave_net_timeout = ?', [netTimeout]],
      [
        'CHANGE MASTER TO MASTER_HOST=?, MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?, ' +
          'MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=?, MASTER_HEARTBEAT_PERIOD=?' + tls.sql,
        [opts.host ?? primary.host, primary.port, opts.user, opts.password, opts.connectRetrySeconds ?? 1, netTimeout / 2, ...tls.params],
      ],
      ['START SLAVE'],
    ],
    opts.password,
  );
}

/** The CHANGE MASTER options of replication over verified TLS (none without `tls`). */
export function replicaTlsClause(tls: ReplicaTls | undefined): { sql: string; params: string[] } {
  if (!tls) return { sql: '', params: [] };
  const files: [string, string | undefined][] = [['MASTER_SSL_CA', tls.ca], ['MASTER_SSL_CERT', tls.cert], ['MASTER_SSL_KEY', tls.key]];
  const given = files.filter((f): f is [string, string] => f[1] !== undefined);
  return {
    sql: `, MASTER_SSL=1, ${given.map(([option]) => `${option}=?`).join(', ')}, MASTER_SSL_VERIFY_SERVER_CERT=1`,
    params: given.map(([, file]) => resolve(file)),
  };
}

/** SHOW SLAVE STATUS as an object keyed by column name; null when the server is not a replica. */
export async function replicaStatus(server: MariaServer): Promise<Record<string, unknown> | null> {
  const rows = await server.query<Record<string, unknown>[]>('SHOW SLAVE STATUS');
  return rows[0] ?? null;
}

const single = async (server: MariaServer, sql: string): Promise<string> =>
  String((await server.query<{ v: unknown }[]>(sql))[0]?.v ?? '');

/** Waits (bounded, MASTER_GTID_WAIT) until `replica` has applied everything in the primary's binlog. */
export async function waitForReplicaCatchUp(replica: MariaServer, primary: MariaServer, timeoutMs = 10_000): Promise<void> {
  const target = await single(primary, 'SELECT @@GLOBAL.gtid_binlog_pos AS v');
  if (!target) return;
  const rows = await replica.query<{ r: unknown }[]>('SELECT MASTER_GTID_WAIT(?, ?) AS r', [target, timeoutMs / 1000], {
    timeoutMs: timeoutMs + 5_000,
  });
  if (Number(rows[0]?.r) === 0) return;
  const at = await single(replica, 'SELECT @@GLOBAL.gtid_slave_pos AS v');
  const st = (await replicaStatus(replica)) ?? {};
  const info = ['Slave_IO_Running', 'Slave_SQL_Running', 'Last_IO_Error', 'Last_SQL_Error'].map((k) => `${k}=${String(st[k] ?? '')}`);
  throw new Error(
    `replica ${replica.name} did not catch up with primary ${primary.name} within ${timeoutMs} ms: ` +
      `primary gtid_binlog_pos=${target}, replica gtid_slave_pos=${at || '(empty)'}; ${info.join(', ')}`,
  );
}
