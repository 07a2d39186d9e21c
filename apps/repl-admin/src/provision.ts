import { AdminLoginEnv, IsCaFile, runAsAdmin } from '@vita/mariadb';
import { loadEnv, runMain } from '@vita/runtime';
import { IsNotEmpty, IsOptional, IsString, Matches } from 'class-validator';
import { provisionStatementsFor } from './app/provision/provision';

/**
 * `node provision.js` / `nx run repl-admin:provision`: creates the heartbeat table, the account view and
 * repl-admin's monitor and admin accounts on the primary, as an administrator (DB_ADMIN_SOCKET, or
 * DB_ADMIN_HOST with DB_ADMIN_USER and DB_ADMIN_PASSWORD, the same variables as the api's provision).
 */
class ProvisionEnv extends AdminLoginEnv {
  @IsOptional() @Matches(/^\w+$/) REPL_DB_NAME = 'vita';
  @IsOptional() @Matches(/^\w+$/) REPL_HEARTBEAT_SCHEMA = 'repl_admin';
  @IsOptional() @IsString() REPL_USER_HOST = '%';
  @IsString() @IsNotEmpty() REPL_MONITOR_USER!: string;
  @IsString() @IsNotEmpty() REPL_MONITOR_PASSWORD!: string;
  @IsString() @IsNotEmpty() REPL_ADMIN_USER!: string;
  @IsString() @IsNotEmpty() REPL_ADMIN_PASSWORD!: string;
  /** TLS to DB_ADMIN_HOST, its certificate and host name verified against this CA file (a socket needs none). */
  @IsOptional() @IsCaFile() REPL_TLS_CA?: string;
}

runMain('provision', async () => {
  const env = loadEnv(ProvisionEnv, process.env);
  const statements = provisionStatementsFor(env);
  await runAsAdmin(env, statements, env.REPL_TLS_CA ? { caFile: env.REPL_TLS_CA, setting: 'REPL_TLS_CA' } : undefined);
  console.log(`heartbeat table ${env.REPL_HEARTBEAT_SCHEMA}.heartbeat and accounts ${env.REPL_MONITOR_USER}, ${env.REPL_ADMIN_USER} are ready`);
});
