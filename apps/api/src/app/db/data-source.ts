import { connect, isIP, type Socket } from 'node:net';
import { clientTlsProblem, readCaFile } from '@vita/mariadb';
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
  /** DB_TLS_CA: connect over TLS, verifying the server's certificate and host name against this CA file. */
  tlsCaFile?: string;
}

/**
 * mysql2 options of a verified TLS connection to `address`: the certificate must chain to `ca`
 * (rejectUnauthorized) and name the host (verifyIdentity). For an IP address mysql2 gives Node's
 * TLS no server name, and Node then checks the name of the socket's host, which `net` records
 * only for names it resolved ("localhost" otherwise): the socket made here records the address,
 * so the certificate's IP SAN is what is checked. A DNS name needs nothing more.
 */
export function mysqlTls(address: HostPort, ca: Buffer): { ssl: mysql2.SslOptions; stream?: () => Socket } {
  const ssl = { ca, rejectUnauthorized: true, verifyIdentity: true };
  if (isIP(address.host) === 0) return { ssl };
  const stream = (): Socket => {
    const socket = connect({ host: address.host, port: address.port, noDelay: true, keepAlive: true });
    (socket as Socket & { _host: string | null })._host = address.host;
    return socket;
  };
  return { ssl, stream };
}

/**
 * The one way Vita builds a TypeORM DataSource, used by the app and by the migration command.
 * The schema is owned by migrations: `synchronize` is always off.
 */
export function createDataSource(address: HostPort, login: DbLogin, options: DataSourceOptions): DataSource {
  const tls = options.tlsCaFile === undefined ? undefined : mysqlTls(address, readCaFile(options.tlsCaFile, 'DB_TLS_CA'));
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
    ...(tls ? { ssl: tls.ssl } : {}),
    extra: { enableKeepAlive: true, maxIdle: options.poolSize ?? 4, idleTimeout: 30_000, ...(tls?.stream ? { stream: tls.stream } : {}) },
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

/** The message of an error from any realm, or the value itself; a TLS failure says what it means. */
export const describeError = (err: unknown): string => {
  const message = (err as { message?: unknown } | null)?.message;
  return clientTlsProblem(err) ?? (typeof message === 'string' ? message : String(err));
};
