import { Inject, Injectable } from '@nestjs/common';
import { type Connection, type ConnectionConfig, createConnection } from 'mariadb';
import { clientTlsProblem, mariadbClientTls, readCaFile } from '@vita/mariadb';
import { ENV } from '@vita/runtime';
import type { ReplConfig } from '../config/config';
import { address, type ServerConfig } from '../config/servers';
import { describeError } from './sql';

export type Account = 'monitor' | 'admin';

/** Connection options of a bulk copy: values come back exactly as stored, never converted. */
export const RAW_VALUES: Partial<ConnectionConfig> = {
  dateStrings: true,
  autoJsonMap: false,
  bigIntAsNumber: false,
  decimalAsNumber: false,
};

/** Fresh, bounded connections to the configured servers as the monitor or the admin account. */
@Injectable()
export class Db {
  constructor(@Inject(ENV) private readonly config: ReplConfig) {}

  /**
   * Connects to `server` as `account` and runs `work`; both the connect and the work are bounded by
   * `timeoutMs` (the connection is destroyed when it runs out). Errors never carry a password.
   */
  async with<T>(server: ServerConfig, account: Account, work: (conn: Connection) => Promise<T>, timeoutMs?: number, options: Partial<ConnectionConfig> = {}): Promise<T> {
    const env = this.config.env;
    const limit = timeoutMs ?? env.REPL_QUERY_TIMEOUT_MS;
    const [user, password] = account === 'admin' ? [env.REPL_ADMIN_USER, env.REPL_ADMIN_PASSWORD] : [env.REPL_MONITOR_USER, env.REPL_MONITOR_PASSWORD];
    let conn: Connection;
    try {
      const tls = env.REPL_TLS_CA ? { ssl: mariadbClientTls(readCaFile(env.REPL_TLS_CA, 'REPL_TLS_CA'), server.host) } : {};
      conn = await createConnection({
        host: server.host,
        port: server.port,
        user,
        password,
        connectTimeout: Math.min(limit, env.REPL_QUERY_TIMEOUT_MS),
        logParam: false,
        bigIntAsNumber: true,
        insertIdAsNumber: true,
        checkDuplicate: false,
        ...tls,
        ...options,
      });
    } catch (err) {
      throw new Error(`cannot connect to ${server.name} (${address(server)}) as the ${account} user: ${clientTlsProblem(err) ?? describeError(err)}`);
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      conn.destroy();
    }, limit);
    try {
      return await work(conn);
    } catch (err) {
      throw timedOut ? new Error(`${server.name} (${address(server)}) did not answer within ${limit} ms`) : err;
    } finally {
      clearTimeout(timer);
      if (!timedOut) await conn.end().catch(() => conn.destroy());
    }
  }
}
