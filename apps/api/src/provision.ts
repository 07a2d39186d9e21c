import { AdminLoginEnv, IsCaFile, runAsAdmin } from '@vita/mariadb';
import { loadEnv, runMain } from '@vita/runtime';
import { IsNotEmpty, IsOptional, IsString, Matches } from 'class-validator';
import { provisionStatements } from './app/db/provision';

/**
 * `node provision.js` / `nx run api:provision`: creates the database and the api's three users on
 * the primary, as an administrator (DB_ADMIN_SOCKET, or DB_ADMIN_HOST with user and password).
 */
class ProvisionEnv extends AdminLoginEnv {
  @IsOptional() @Matches(/^\w+$/) DB_NAME = 'vita';
  @IsOptional() @IsString() DB_USER_HOST = '%';
  @IsString() @IsNotEmpty() DB_READ_USER!: string;
  @IsString() @IsNotEmpty() DB_READ_PASSWORD!: string;
  @IsString() @IsNotEmpty() DB_WRITE_USER!: string;
  @IsString() @IsNotEmpty() DB_WRITE_PASSWORD!: string;
  @IsString() @IsNotEmpty() DB_MIGRATE_USER!: string;
  @IsString() @IsNotEmpty() DB_MIGRATE_PASSWORD!: string;
  /** TLS to DB_ADMIN_HOST, its certificate and host name verified against this CA file (a socket needs none). */
  @IsOptional() @IsCaFile() DB_TLS_CA?: string;
}

runMain('provision', async () => {
  const env = loadEnv(ProvisionEnv, process.env);
  const statements = provisionStatements({
    database: env.DB_NAME,
    userHost: env.DB_USER_HOST,
    reader: { user: env.DB_READ_USER, password: env.DB_READ_PASSWORD },
    writer: { user: env.DB_WRITE_USER, password: env.DB_WRITE_PASSWORD },
    migrator: { user: env.DB_MIGRATE_USER, password: env.DB_MIGRATE_PASSWORD },
  });
  await runAsAdmin(env, statements, env.DB_TLS_CA ? { caFile: env.DB_TLS_CA, setting: 'DB_TLS_CA' } : undefined);
  console.log(`database ${env.DB_NAME} and users ${env.DB_READ_USER}, ${env.DB_WRITE_USER}, ${env.DB_MIGRATE_USER} are ready`);
});
