import { IsOptional, IsString, Matches, ValidateIf } from 'class-validator';
import { createConnection } from 'mariadb';
import { mariadbClientTls, readCaFile } from './tls';

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/**
 * How a provisioning command reaches the primary as an administrator: a unix socket, or host:port
 * with a user and password. Commands' settings classes extend it.
 */
export class AdminLoginEnv {
  @ValidateIf((e: AdminLoginEnv) => !e.DB_ADMIN_HOST) @IsString({ message: 'or DB_ADMIN_HOST must be set' }) DB_ADMIN_SOCKET?: string;
  @ValidateIf((e: AdminLoginEnv) => !e.DB_ADMIN_SOCKET) @Matches(HOST_PORT, { message: 'must be host:port (or set DB_ADMIN_SOCKET)' }) DB_ADMIN_HOST?: string;
  @IsOptional() @IsString() DB_ADMIN_USER = 'root';
  @IsOptional() @IsString() DB_ADMIN_PASSWORD?: string;
}

export interface AdminStatement {
  sql: string;
  params: unknown[];
}

export interface AdminTls {
  /** PEM file of the CA the server's certificate must chain to (host name verified too). */
  caFile: string;
  /** The setting it came from, named in errors (e.g. DB_TLS_CA). */
  setting: string;
}

/**
 * Runs statements in order on one administrator connection (placeholders filled client-side, never
 * logged). With `tls`, a TCP connection (DB_ADMIN_HOST) uses verified TLS; a unix socket needs none.
 */
export async function runAsAdmin(login: AdminLoginEnv, statements: AdminStatement[], tls?: AdminTls): Promise<void> {
  const at = login.DB_ADMIN_HOST?.lastIndexOf(':') ?? -1;
  const host = login.DB_ADMIN_HOST?.slice(0, at) ?? '';
  const where = login.DB_ADMIN_SOCKET
    ? { socketPath: login.DB_ADMIN_SOCKET }
    : { host, port: Number(login.DB_ADMIN_HOST?.slice(at + 1)), ...(tls ? { ssl: mariadbClientTls(readCaFile(tls.caFile, tls.setting), host) } : {}) };
  const conn = await createConnection({ ...where, user: login.DB_ADMIN_USER, password: login.DB_ADMIN_PASSWORD, connectTimeout: 10_000, logParam: false });
  try {
    for (const s of statements) await conn.query(s.sql, s.params);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}
