import { IsNotEmpty, IsOptional, IsString, Matches, ValidateIf } from 'class-validator';
import { createConnection } from 'mariadb';
import { HOST_PORT, loadEnv, parseHostPort, runMain } from '@vita/runtime';
import { provisionStatements } from './app/provision/provision';

/**
 * `node provision.js` / `nx run repl-admin:provision`: creates the heartbeat table, the account view and
 * repl-admin's monitor and admin accounts on the primary, as an administrator (DB_ADMIN_SOCKET, or
 * DB_ADMIN_HOST with DB_ADMIN_USER and DB_ADMIN_PASSWORD, the same variables as the api's provision).
 */
class ProvisionEnv {
  /** The administrator provisioning runs as: a unix socket (root, no password), or host:port with a user and password. */
  @ValidateIf((e: ProvisionEnv) => !e.DB_ADMIN_HOST) @IsString({ message: 'or DB_ADMIN_HOST must be set' }) DB_ADMIN_SOCKET?: string;
  @ValidateIf((e: ProvisionEnv) => !e.DB_ADMIN_SOCKET) @Matches(HOST_PORT, { message: 'must be host:port (or set DB_ADMIN_SOCKET)' }) DB_ADMIN_HOST?: string;
  @IsOptional() @IsString() DB_ADMIN_USER = 'root';
  @IsOptional() @IsString() DB_ADMIN_PASSWORD?: string;
  @IsOptional() @Matches(/^\w+$/) REPL_DB_NAME = 'vita';
  @IsOptional() @Matches(/^\w+$/) REPL_HEARTBEAT_SCHEMA = 'repl_admin';
  @IsOptional() @IsString() REPL_USER_HOST = '%';
  @IsString() @IsNotEmpty() REPL_MONITOR_USER!: string;
  @IsString() @IsNotEmpty() REPL_MONITOR_PASSWORD!: string;
  @IsString() @IsNotEmpty() REPL_ADMIN_USER!: string;
  @IsString() @IsNotEmpty() REPL_ADMIN_PASSWORD!: string;
}

runMain('provision', async () => {
  const env = loadEnv(ProvisionEnv, process.env);
  const administrator = env.DB_ADMIN_SOCKET ? { socketPath: env.DB_ADMIN_SOCKET } : parseHostPort(env.DB_ADMIN_HOST ?? '');
  const conn = await createConnection({ ...administrator, user: env.DB_ADMIN_USER, password: env.DB_ADMIN_PASSWORD, connectTimeout: 10_000, logParam: false });
  try {
    const statements = provisionStatements({
      dataSchema: env.REPL_DB_NAME,
      heartbeatSchema: env.REPL_HEARTBEAT_SCHEMA,
      userHost: env.REPL_USER_HOST,
      monitor: { user: env.REPL_MONITOR_USER, password: env.REPL_MONITOR_PASSWORD },
      admin: { user: env.REPL_ADMIN_USER, password: env.REPL_ADMIN_PASSWORD },
    });
    for (const s of statements) await conn.query(s.sql, s.params);
    console.log(`heartbeat table ${env.REPL_HEARTBEAT_SCHEMA}.heartbeat and accounts ${env.REPL_MONITOR_USER}, ${env.REPL_ADMIN_USER} are ready`);
  } finally {
    await conn.end();
  }
});
