import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

/** `host:port` — a database address. */
export interface DbAddress {
  host: string;
  port: number;
}

const HOST_PORT = /^[A-Za-z0-9.-]+:\d{1,5}$/;
const HOST_PORT_LIST = /^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/;
const trimmed = Transform(({ value }) => (typeof value === 'string' ? value.trim() : value));
/** Digits become a number; anything else stays as given, so the integer check names the problem. */
export const integer = Transform(({ value }) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value));

/** Every setting the api reads from its environment. The README's table lists the same. */
export class ApiEnv {
  @IsOptional() @IsString() HOST = '0.0.0.0';
  @IsOptional() @integer @IsInt() @Min(1) @Max(65535) PORT = 3100;
  @IsOptional() @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL = 'info';

  @IsOptional() @IsString() @Matches(/^\w+$/) DB_NAME = 'vita';
  /** Read databases in order of preference: the local replica first, the primary last. */
  @trimmed @Matches(HOST_PORT_LIST, { message: 'must be a comma-separated list of host:port' }) DB_READ_HOSTS!: string;
  @IsString() @IsNotEmpty() DB_READ_USER!: string;
  @IsString() @IsNotEmpty() DB_READ_PASSWORD!: string;
  @trimmed @Matches(HOST_PORT, { message: 'must be host:port' }) DB_WRITE_HOST!: string;
  @IsString() @IsNotEmpty() DB_WRITE_USER!: string;
  @IsString() @IsNotEmpty() DB_WRITE_PASSWORD!: string;

  /** Bearer token for writes. */
  @IsString() @MinLength(16, { message: 'must be at least 16 characters' }) VITA_ADMIN_TOKEN!: string;

  @IsOptional() @integer @IsInt() @Min(100) @Max(60000) DB_CHECK_INTERVAL_MS = 500;
  @IsOptional() @integer @IsInt() @Min(100) @Max(60000) DB_TIMEOUT_MS = 2000;
  @IsOptional() @integer @IsInt() @Min(0) @Max(86400) READY_MAX_LAG_SECONDS = 30;
  @IsOptional() @integer @IsInt() @Min(0) @Max(86400) CACHE_MAX_AGE_SECONDS = 2;
}

export class EnvError extends Error {}

/**
 * Validates an environment against a settings class. The error is one line naming the variable
 * and the rule it breaks, never the value (it may be a secret).
 */
export function loadEnv<T extends object>(cls: new () => T, source: Record<string, string | undefined>): T {
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const env = plainToInstance(cls, present, { exposeDefaultValues: true });
  const errors = validateSync(env, { whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const variable = e.property;
      // The first-written decorator (the basic type check) is the last constraint class-validator lists.
      const rule = Object.values(e.constraints ?? {}).pop() ?? 'is invalid';
      const why = rule.startsWith(variable) ? rule.slice(variable.length).trim() : rule;
      return `${variable} ${why}${variable in present ? '' : ' (it is not set)'}`;
    });
    throw new EnvError(`invalid environment: ${lines.join('; ')}`);
  }
  return env;
}

export function parseAddress(value: string): DbAddress {
  const at = value.lastIndexOf(':');
  return { host: value.slice(0, at), port: Number(value.slice(at + 1)) };
}

export const parseAddressList = (value: string): DbAddress[] => value.split(',').map(parseAddress);
