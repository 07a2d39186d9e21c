import * as mysql2 from 'mysql2';
import { DataSource, EntitySchema } from 'typeorm';
import { ENTITIES } from './entities';
import type { HostPort } from '@vita/runtime';
import { MIGRATIONS } from './migrations';

export interface DbLogin {
  user: string;
  password: string;
  database: string;
}

export interface DataSourceOptions {
  timeoutMs: number;
  poolSize?: number;
  withMigrations?: boolean;
  /** The schema as entities; the default is the api's (a test may pass a variant). */
  entities?: EntitySchema[];
}

/**
 * The one way Vita builds a TypeORM DataSource, used by the app and by the migration command.
 * The schema is owned by migrations: `synchronize` is always off.
 */
export function createDataSource(address: HostPort, login: DbLogin, options: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'mariadb',
    // Named explicitly (TypeORM would load it by name at run time), so the bundle's package.json lists it.
    driver: mysql2,
    host: address.host,
    port: address.port,
    username: login.user,
    password: login.password,
    database: login.database,
    charset: 'utf8mb4',
    timezone: 'Z',
    synchronize: false,
    migrationsRun: false,
    migrations: options.withMigrations ? MIGRATIONS : [],
    migrationsTableName: 'schema_migrations',
    entities: options.entities ?? ENTITIES,
    logging: false,
    poolSize: options.poolSize ?? 4,
    connectTimeout: options.timeoutMs,
    extra: { enableKeepAlive: true, maxIdle: options.poolSize ?? 4, idleTimeout: 30_000 },
  });
}

/** Rejects when `work` takes longer than `ms`; the caller decides what a timeout means. */
export async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The message of an error from any realm, or the value itself. */
export const describeError = (err: unknown): string => {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(err);
};
