import { IsNotEmpty, IsOptional, IsString, Matches } from 'class-validator';
import type { DataSource, EntitySchema } from 'typeorm';
import { IsCaFile } from '@vita/mariadb';
import { HOST_PORT, parseHostPort } from '@vita/runtime';
import { createDataSource } from './data-source';

/** Settings of the migration command (`nx run api:migrate`, or `node migrate.js` in the image). */
export class MigrateEnv {
  @Matches(HOST_PORT, { message: 'must be host:port' }) DB_WRITE_HOST!: string;
  @IsOptional() @Matches(/^\w+$/) DB_NAME = 'vita';
  @IsString() @IsNotEmpty() DB_MIGRATE_USER!: string;
  @IsString() @IsNotEmpty() DB_MIGRATE_PASSWORD!: string;
  /** As the api's: TLS to the primary, its certificate and host name verified against this CA file. */
  @IsOptional() @IsCaFile() DB_TLS_CA?: string;
}

async function withSource<T>(env: MigrateEnv, work: (source: DataSource) => Promise<T>, entities?: EntitySchema[]): Promise<T> {
  const login = { user: env.DB_MIGRATE_USER, password: env.DB_MIGRATE_PASSWORD, database: env.DB_NAME };
  const source = createDataSource(parseHostPort(env.DB_WRITE_HOST), login, { timeoutMs: 10_000, poolSize: 1, withMigrations: true, entities, tlsCaFile: env.DB_TLS_CA });
  await source.initialize();
  try {
    return await work(source);
  } finally {
    await source.destroy();
  }
}

/** Applies every pending migration to the primary, each in its own transaction. */
export async function migrate(env: MigrateEnv): Promise<string[]> {
  return withSource(env, async (source) => (await source.runMigrations({ transaction: 'each' })).map((m) => m.name));
}

/**
 * What TypeORM would change to make the database match the entities (as `typeorm migration:generate
 * --check` asks): after the migrations ran, anything here means the entities and the migrations
 * disagree. Each entry is one statement; its text names the table and the column.
 */
export async function pendingSchemaChanges(env: MigrateEnv, entities?: EntitySchema[]): Promise<string[]> {
  return withSource(
    env,
    async (source) => {
      if (await source.showMigrations()) throw new Error('migrations are pending: run them first');
      const log = await source.driver.createSchemaBuilder().log();
      return log.upQueries.map((q) => q.query);
    },
    entities,
  );
}
