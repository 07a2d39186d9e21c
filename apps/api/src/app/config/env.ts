import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min, MinLength, ValidateBy, type ValidationArguments } from 'class-validator';
import { IsCaFile } from '@vita/mariadb';
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

const validPort = (port: number): boolean => Number.isInteger(port) && port >= 1 && port <= 65535;
/** Host names compare case-insensitively; `host:port` is one server. */
const serverKey = (a: HostPort): string => `${a.host.toLowerCase()}:${a.port}`;

/**
 * What contradicts itself in a DB_READ_HOSTS value that matched READ_HOST_LIST (undefined: nothing),
 * given DB_WRITE_HOST. Entries are named by position, never by value. Pure.
 */
export function readHostsProblem(value: string, writeHost: string | undefined): string | undefined {
  const hosts = parseReadHosts(value);
  const at = (i: number) => `entry ${i + 1}`;
  const badPort = hosts.findIndex((h) => !validPort(h.address.port));
  if (badPort >= 0) return `${at(badPort)} has a port outside 1-65535`;
  const primaries = hosts.flatMap((h, i) => (h.role === 'primary' ? [i] : []));
  if (primaries.length > 1) return `has more than one primary@ entry (${primaries.map(at).join(', ')}): there is one primary`;
  const first = new Map<string, number>();
  for (const [i, h] of hosts.entries()) {
    const earlier = first.get(serverKey(h.address));
    if (earlier !== undefined) {
      const roles = hosts[earlier].role === h.role ? `both as ${h.role}@` : 'once as replica@ and once as primary@: a server has one role';
      return `lists the same server (host:port) twice, ${at(earlier)} and ${at(i)}, ${roles}`;
    }
    first.set(serverKey(h.address), i);
  }
  if (writeHost !== undefined && HOST_PORT.test(writeHost)) {
    const write = serverKey(parseHostPort(writeHost));
    const replica = hosts.findIndex((h) => h.role === 'replica' && serverKey(h.address) === write);
    if (replica >= 0) return `${at(replica)} is DB_WRITE_HOST's server (the primary), listed as replica@`;
  }
  return undefined;
}

const writeHostOf = (args?: ValidationArguments): string | undefined => {
  const value = (args?.object as { DB_WRITE_HOST?: unknown } | undefined)?.DB_WRITE_HOST;
  return typeof value === 'string' ? value : undefined;
};

/** DB_READ_HOSTS: one role per server, one primary, real ports (the list's form is READ_HOST_LIST's check). */
const ConsistentReadHosts = () =>
  ValidateBy({
    name: 'consistentReadHosts',
    validator: {
      validate: (value: unknown, args?: ValidationArguments) =>
        typeof value !== 'string' || !READ_HOST_LIST.test(value) || readHostsProblem(value, writeHostOf(args)) === undefined,
      defaultMessage: (args?: ValidationArguments) => readHostsProblem(String(args?.value), writeHostOf(args)) ?? 'is invalid',
    },
  });
/** A `host:port` whose port is 1-65535 (the form is HOST_PORT's check). */
const PortInRange = () =>
  ValidateBy({
    name: 'portInRange',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || !HOST_PORT.test(value) || validPort(parseHostPort(value).port),
      defaultMessage: () => 'must have a port from 1 to 65535',
    },
  });

/** Every setting the api reads from its environment. The README's table lists the same. */
export class ApiEnv {
  @IsOptional() @IsString() HOST = '0.0.0.0';
  @IsOptional() @Integer() @IsInt() @Min(1) @Max(65535) PORT = 3100;
  @IsOptional() @IsIn(LOG_LEVELS) LOG_LEVEL = 'info';

  @IsOptional() @IsString() @Matches(/^\w+$/) DB_NAME = 'vita';
  /** Read databases in order of preference, each with its role: the local replica first, the primary last. */
  @Trimmed()
  @Matches(READ_HOST_LIST, { message: 'must be a comma-separated list of role@host:port, role being replica or primary (e.g. replica@10.0.0.5:3306,primary@10.0.0.1:3306)' })
  @ConsistentReadHosts()
  DB_READ_HOSTS!: string;
  @IsString() @IsNotEmpty() DB_READ_USER!: string;
  @IsString() @IsNotEmpty() DB_READ_PASSWORD!: string;
  @Trimmed() @Matches(HOST_PORT, { message: 'must be host:port' }) @PortInRange() DB_WRITE_HOST!: string;
  @IsString() @IsNotEmpty() DB_WRITE_USER!: string;
  @IsString() @IsNotEmpty() DB_WRITE_PASSWORD!: string;
  /**
   * PEM file of the CA the databases' certificates chain to. Set: every connection (reads, writes)
   * uses TLS and verifies the server's certificate and that it names the host connected to.
   */
  @IsOptional() @IsCaFile() DB_TLS_CA?: string;
  /** Schema of repl-admin's heartbeat table, read to judge what a replica has applied. */
  @IsOptional() @IsString() @Matches(/^\w+$/) DB_HEARTBEAT_SCHEMA = 'repl_admin';

  /** Bearer token for writes. */
  @IsString() @MinLength(16, { message: 'must be at least 16 characters' }) VITA_ADMIN_TOKEN!: string;

  @IsOptional() @Integer() @IsInt() @Min(100) @Max(60000) DB_CHECK_INTERVAL_MS = 500;
  /** How often the topology (site_nodes) is read: every other active node's replica is read after the configured replicas, before the primary. 0: never. */
  @IsOptional() @Integer() @IsInt() @Min(0) @Max(3_600_000) DB_SITES_INTERVAL_MS = 5000;
  /** How often the active read database's version is asked for (one small query per api instance). */
  @IsOptional() @Integer() @IsInt() @Min(10) @Max(60000) DB_VERSION_INTERVAL_MS = 50;
  @IsOptional() @Integer() @IsInt() @Min(100) @Max(60000) DB_TIMEOUT_MS = 2000;
  @IsOptional() @Integer() @IsInt() @Min(0) @Max(86400) READY_MAX_LAG_SECONDS = 30;
  @IsOptional() @Integer() @IsInt() @Min(0) @Max(86400) CACHE_MAX_AGE_SECONDS = 2;

  /** Open `GET /api/v1/versions` streams beyond this are refused with 503. */
  @IsOptional() @Integer() @IsInt() @Min(1) @Max(100000) VERSIONS_MAX_STREAMS = 1000;
  @IsOptional() @Integer() @IsInt() @Min(100) @Max(600000) VERSIONS_KEEPALIVE_MS = 15000;
}
