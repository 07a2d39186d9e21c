import { IsNotEmpty, IsOptional, IsString, Matches } from 'class-validator';
import { HOST_PORT, parseHostPort } from '@vita/runtime';
import { createDataSource } from './data-source';

/** Settings of the migration command (`nx run api:migrate`, or `node migrate.js` in the image). */
export class MigrateEnv {
  @Matches(HOST_PORT, { message: 'must be host:port' }) DB_WRITE_HOST!: string;
  @IsOptional() @Matches(/^\w+$/) DB_NAME = 'vita';
  @IsString() @IsNotEmpty() DB_MIGRATE_USER!: string;
  @IsString() @IsNotEmpty() DB_MIGRATE_PASSWORD!: string;
}

/** Applies every pending migration to the primary, each in its own transaction. */
export async function migrate(env: MigrateEnv): Promise<string[]> {
  const login = { user: env.DB_MIGRATE_USER, password: env.DB_MIGRATE_PASSWORD, database: env.DB_NAME };
  const source = createDataSource(parseHostPort(env.DB_WRITE_HOST), login, { timeoutMs: 10_000, poolSize: 1, withMigrations: true });
  await source.initialize();
  try {
    const applied = await source.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await source.destroy();
  }
}
