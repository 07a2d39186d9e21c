import { IsNotEmpty, IsOptional, IsString, Matches } from 'class-validator';
import { createConnection } from 'mariadb';
import { EnvError, HOST_PORT, loadEnv, parseHostPort, runMain } from '@vita/runtime';
import { provisionStatements } from './app/db/provision';

/**
 * `node provision.js` / `nx run api:provision`: creates the database and the api's three users on
 * the primary, as an administrator (DB_ADMIN_SOCKET, or DB_ADMIN_HOST with user and password).
 */
class ProvisionEnv {
  @IsOptional() @IsString() DB_ADMIN_SOCKET?: string;
  @IsOptional() @Matches(HOST_PORT, { message: 'must be host:port' }) DB_ADMIN_HOST?: string;
  @IsOptional() @IsString() DB_ADMIN_USER = 'root';
  @IsOptional() @IsString() DB_ADMIN_PASSWORD?: string;
  @IsOptional() @Matches(/^\w+$/) DB_NAME = 'vita';
  @IsOptional() @IsString() DB_USER_HOST = '%';
  @IsString() @IsNotEmpty() DB_READ_USER!: string;
  @IsString() @IsNotEmpty() DB_READ_PASSWORD!: string;
  @IsString() @IsNotEmpty() DB_WRITE_USER!: string;
  @IsString() @IsNotEmpty() DB_WRITE_PASSWORD!: string;
  @IsString() @IsNotEmpty() DB_MIGRATE_USER!: string;
  @IsString() @IsNotEmpty() DB_MIGRATE_PASSWORD!: string;
}

runMain('provision', async () => {
  const env = loadEnv(ProvisionEnv, process.env);
  if (!env.DB_ADMIN_SOCKET && !env.DB_ADMIN_HOST) throw new EnvError('invalid environment: set DB_ADMIN_SOCKET or DB_ADMIN_HOST');
  const address = env.DB_ADMIN_HOST ? parseHostPort(env.DB_ADMIN_HOST) : undefined;
  const conn = await createConnection({
    ...(env.DB_ADMIN_SOCKET ? { socketPath: env.DB_ADMIN_SOCKET } : { host: address?.host, port: address?.port }),
    user: env.DB_ADMIN_USER,
    password: env.DB_ADMIN_PASSWORD,
    connectTimeout: 10_000,
  });
  try {
    const statements = provisionStatements({
      database: env.DB_NAME,
      userHost: env.DB_USER_HOST,
      reader: { user: env.DB_READ_USER, password: env.DB_READ_PASSWORD },
      writer: { user: env.DB_WRITE_USER, password: env.DB_WRITE_PASSWORD },
      migrator: { user: env.DB_MIGRATE_USER, password: env.DB_MIGRATE_PASSWORD },
    });
    for (const s of statements) await conn.query(s.sql, s.params);
    console.log(`database ${env.DB_NAME} and users ${env.DB_READ_USER}, ${env.DB_WRITE_USER}, ${env.DB_MIGRATE_USER} are ready`);
  } finally {
    await conn.end();
  }
});
