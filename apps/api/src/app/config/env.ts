import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { HOST_PORT, HostPort, Integer, LOG_LEVELS, parseHostPort, Trimmed } from '@vita/runtime';

/** What a read database is, as configured: never inferred from what it answers. */
export type ReadRole = 'primary' | 'replica';

export interface ReadHost {
  role: ReadRole;
  address: HostPort;
  /** `host:port`, as reported in /health/ready. */
  name: string;
}

const READ_HOST = /(replica|primary)@[A-Za-z0-9.-]+:\d{1,5}/.source;
/** `role@host:port,role@host:port,…` with role `replica` or `primary`. */
export const READ_HOST_LIST = new RegExp(`^${READ_HOST}(\\s*,\\s*${READ_HOST})*$`);

/** Parses a value that matched READ_HOST_LIST. */
export function parseReadHosts(value: string): ReadHost[] {
  return value.split(',').map((entry) => {
    const [role, at] = entry.trim().split('@');
    const address = parseHostPort(at);
    return { role: role as ReadRole, address, name: `${address.host}:${address.port}` };
  });
}

/** Every setting the api reads from its environment. The README's table lists the same. */
export class ApiEnv {
  @IsOptional() @IsString() HOST = '0.0.0.0';
  @IsOptional() @Integer() @IsInt() @Min(1) @Max(65535) PORT = 3100;
  @IsOptional() @IsIn(LOG_LEVELS) LOG_LEVEL = 'info';

  @IsOptional() @IsString() @Matches(/^\w+$/) DB_NAME = 'vita';
  /** Read databases in order of preference, each with its role: the local replica first, the primary last. */
  @Trimmed()
  @Matches(READ_HOST_LIST, { message: 'must be a comma-separated list of role@host:port, role being replica or primary (e.g. replica@10.0.0.5:3306,primary@10.0.0.1:3306)' })
  DB_READ_HOSTS!: string;
  @IsString() @IsNotEmpty() DB_READ_USER!: string;
  @IsString() @IsNotEmpty() DB_READ_PASSWORD!: string;
  @Trimmed() @Matches(HOST_PORT, { message: 'must be host:port' }) DB_WRITE_HOST!: string;
  @IsString() @IsNotEmpty() DB_WRITE_USER!: string;
  @IsString() @IsNotEmpty() DB_WRITE_PASSWORD!: string;
  /** Schema of repl-admin's heartbeat table, read to judge what a replica has applied. */
  @IsOptional() @IsString() @Matches(/^\w+$/) DB_HEARTBEAT_SCHEMA = 'repl_admin';

  /** Bearer token for writes. */
  @IsString() @MinLength(16, { message: 'must be at least 16 characters' }) VITA_ADMIN_TOKEN!: string;

  @IsOptional() @Integer() @IsInt() @Min(100) @Max(60000) DB_CHECK_INTERVAL_MS = 500;
  /** How often the active read database's version is asked for (one small query per api instance). */
  @IsOptional() @Integer() @IsInt() @Min(10) @Max(60000) DB_VERSION_INTERVAL_MS = 50;
  @IsOptional() @Integer() @IsInt() @Min(100) @Max(60000) DB_TIMEOUT_MS = 2000;
  @IsOptional() @Integer() @IsInt() @Min(0) @Max(86400) READY_MAX_LAG_SECONDS = 30;
  @IsOptional() @Integer() @IsInt() @Min(0) @Max(86400) CACHE_MAX_AGE_SECONDS = 2;

  /** Open `GET /api/v1/versions` streams beyond this are refused with 503. */
  @IsOptional() @Integer() @IsInt() @Min(1) @Max(100000) VERSIONS_MAX_STREAMS = 1000;
  @IsOptional() @Integer() @IsInt() @Min(100) @Max(600000) VERSIONS_KEEPALIVE_MS = 15000;
}
