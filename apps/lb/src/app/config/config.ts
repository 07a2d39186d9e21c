import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateBy,
  ValidateNested,
  validateSync,
  type ValidationError,
} from 'class-validator';
import { HOST_PORT, LOG_LEVELS } from '@vita/runtime';
import { parseAddressRange } from './address-range';

/*
 * lb's configuration: a YAML or JSON file (LB_CONFIG) with environment overrides (see env.ts).
 * Every key has a default except `backends`; durations are in milliseconds. The README lists them all.
 */

export const ALGORITHMS = ['round-robin', 'least-outstanding'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export const BACKEND_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** `http://host:port`, host a name, an IPv4 address or a bracketed IPv6 address; no path. */
export const HTTP_URL = /^http:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}\/?$/;

/** A whole number within [min, max]. */
const Whole = (min: number, max: number): PropertyDecorator => (target, key) =>
  // Applied bottom-up like stacked decorators, so a non-integer is reported as such, not as out of range.
  [IsInt(), Min(min), Max(max)].reverse().forEach((decorate) => decorate(target, key));

/** 0 (off), or a whole number within [min, max]. */
const IsOffOrWhole = (min: number, max: number) =>
  ValidateBy({
    name: 'isOffOrWhole',
    validator: { validate: (v) => v === 0 || (Number.isInteger(v) && (v as number) >= min && (v as number) <= max), defaultMessage: () => `must be 0 (off) or a whole number from ${min} to ${max}` },
  });

const IsAddressRange = () =>
  ValidateBy({ name: 'isAddressRange', validator: { validate: (v) => typeof v === 'string' && parseAddressRange(v) !== null, defaultMessage: () => 'each entry must be an IP address or CIDR range' } }, { each: true });

export class BackendConfig {
  @IsString() @Matches(BACKEND_NAME, { message: 'must be letters, digits, _ . - (at most 64)' }) name!: string;
  @IsString() @Matches(HTTP_URL, { message: 'must be an http URL (http://host:port)' }) url!: string;
  /** Share of requests relative to the other backends. */
  @Whole(1, 256) weight = 1;
  /** Requests in flight at once on this backend (over all workers); more wait in the queue. */
  @Whole(1, 100_000) maxconn = 256;
}

export class HealthCheckConfig {
  @IsString() @Matches(/^\/[\x21-\x7e]*$/, { message: 'must be a path starting with /' }) path = '/health/ready';
  @Whole(100, 599) expectStatus = 200;
  @Whole(50, 3_600_000) intervalMs = 1000;
  @Whole(10, 600_000) timeoutMs = 1000;
  /** Consecutive successes that bring a down backend back. */
  @Whole(1, 100) rise = 2;
  /** Consecutive failures that take a backend out. */
  @Whole(1, 100) fall = 2;
  /** Each interval is randomly stretched or shrunk by up to this fraction, so checks do not align. */
  @IsNumber() @Min(0) @Max(0.5) jitter = 0.1;
}

export class PassiveConfig {
  /** Consecutive failed requests (connect errors, resets, timeouts, 5xx) that take a backend out until its checks pass; 0: never. */
  @Whole(0, 1000) maxFailures = 3;
  /** Whether a 5xx response counts as a failure. */
  @IsBoolean() on5xx = true;
}

export class QueueConfig {
  /** Requests that may wait for a backend below its `maxconn` (per worker); beyond: 503. */
  @Whole(0, 1_000_000) max = 1024;
  /** Longest wait in the queue before a 503. */
  @Whole(1, 600_000) timeoutMs = 5000;
}

export class TimeoutsConfig {
  /** Connecting to a backend (a failure is retried on another). */
  @Whole(10, 600_000) connectMs = 2000;
  /** Backend silence while a response is due (headers or the next body bytes): 504 before headers. */
  @Whole(10, 3_600_000) responseMs = 30_000;
  /**
   * Time to first byte for a request that may be sent again (idempotent, no body): past it, the
   * request goes to another backend it has not tried (one with a free slot; `retries` permitting)
   * and the slow one is charged a passive failure; with nowhere else to go it waits on, up to
   * `responseMs`. 0: off. 2000 keeps a GET under 3 s when a backend hangs, before the default
   * health check (1 s × fall 2, 1 s timeout: 3–4 s) takes it out.
   */
  @IsOffOrWhole(50, 3_600_000) firstByteMs = 2000;
  /** An idle pooled connection is closed after this; keep it below the backends' keep-alive timeout. */
  @Whole(100, 3_600_000) upstreamIdleMs = 4000;
  /** An idle client connection is closed after this. */
  @Whole(100, 3_600_000) clientKeepAliveMs = 5000;
  /** A client must send its request headers within this (slowloris guard): 408. */
  @Whole(100, 600_000) headersMs = 10_000;
  /** A client must send its whole request within this: 408. */
  @Whole(100, 3_600_000) requestMs = 60_000;
  /** A WebSocket tunnel with no traffic either way for this long is closed (both sides). */
  @Whole(1000, 86_400_000) tunnelIdleMs = 3_600_000;
  /** On SIGTERM, in-flight requests get this long to finish. */
  @Whole(0, 600_000) drainMs = 10_000;
}

export class LimitsConfig {
  /** Largest request header block; beyond: 431. */
  @Whole(1024, 1_048_576) maxHeaderBytes = 16_384;
  /** Idle keep-alive connections kept per backend (per worker). */
  @Whole(0, 100_000) maxIdlePerBackend = 64;
  /**
   * A chunked request body up to this size is read whole before the request goes to a backend, so
   * bad chunking anywhere in it is refused (400) before any backend sees the request; past it, the
   * body streams. 0: chunked bodies stream at once. Bodies with a Content-Length always stream.
   */
  @Whole(0, 1_048_576) chunkedBodyBufferBytes = 65_536;
  /**
   * Client connections open at once (per worker); past it a new one gets a 503 and is closed. Lowered
   * at start to what the process's open-file limit leaves room for (each may need a backend
   * connection too). 10 000 keeps lb within ~100 MiB of connection state per worker.
   */
  @Whole(1, 1_000_000) maxConnections = 10_000;
  /**
   * Client connections open at once from one address (IPv4, or an IPv6 /64) per worker; past it the
   * same 503. Trusted proxies are exempt. 256: dozens of browsers (6 each) behind one NAT, not one
   * client holding the worker.
   */
  @Whole(1, 1_000_000) maxConnectionsPerAddress = 256;
  /**
   * Idle client connections (keep-alive or new, nothing in flight) kept per worker; past it the
   * longest-idle are closed (the clients reconnect when they need to). Connections with a request in
   * progress are never closed for this.
   */
  @Whole(16, 1_000_000) maxIdleConnections = 1000;
}

export class AccessLogConfig {
  /** `stdout`, `off`, or a file path. */
  @IsString() @MinLength(1) to = 'stdout';
  /** Fraction of successful requests logged (errors and 5xx always are). */
  @IsNumber() @Min(0) @Max(1) sample = 1;
  /**
   * Characters of access-log lines held while the destination does not keep up (a full pipe, a slow
   * disk); past it lines are dropped and counted (`accessLogDropped` in /stats).
   */
  @Whole(65_536, 1_073_741_824) maxBufferBytes = 1_048_576;
}

export class AdminConfig {
  /** Loopback by default: stats, metrics and state changes are an operator's, not the internet's. */
  @IsString() @Matches(HOST_PORT, { message: 'must be host:port' }) listen = '127.0.0.1:8404';
}

export class LbConfig {
  @IsString() @Matches(HOST_PORT, { message: 'must be host:port' }) listen = '0.0.0.0:8080';
  @ValidateNested() @Type(() => AdminConfig) admin = new AdminConfig();
  /** Data-plane processes sharing the listening socket; 0: one per CPU core. */
  @Whole(0, 64) workers = 1;
  @IsIn(ALGORITHMS, { message: `must be one of: ${ALGORITHMS.join(', ')}` }) algorithm: Algorithm = 'round-robin';
  @IsArray() @ArrayMinSize(1, { message: 'must list at least one backend (LB_CONFIG or LB_BACKENDS=name=http://host:port,…)' })
  @ValidateNested({ each: true })
  @Type(() => BackendConfig)
  backends: BackendConfig[] = [];
  @ValidateNested() @Type(() => HealthCheckConfig) healthCheck = new HealthCheckConfig();
  @ValidateNested() @Type(() => PassiveConfig) passive = new PassiveConfig();
  /** A backend that comes back ramps from a small share to its full weight over this long; 0: at once. */
  @Whole(0, 3_600_000) slowStartMs = 5000;
  /** Extra attempts on another backend for an idempotent request without a body that failed before any response byte. */
  @Whole(0, 10) retries = 3;
  @ValidateNested() @Type(() => QueueConfig) queue = new QueueConfig();
  @ValidateNested() @Type(() => TimeoutsConfig) timeouts = new TimeoutsConfig();
  @ValidateNested() @Type(() => LimitsConfig) limits = new LimitsConfig();
  /** Peers whose X-Forwarded-* headers are believed (IP addresses or CIDR ranges); others' are replaced. */
  @IsArray() @IsAddressRange() trustedProxies: string[] = [];
  @ValidateNested() @Type(() => AccessLogConfig) accessLog = new AccessLogConfig();
  @IsIn(LOG_LEVELS, { message: `must be one of: ${LOG_LEVELS.join(', ')}` }) logLevel = 'info';
}

/** A configuration that cannot be used; the message is one line naming the key at fault. */
export class ConfigError extends Error {}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `backends[1].url: must be an http URL (http://host:port)` for each problem. */
function problems(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((e) => {
    const key = /^\d+$/.test(e.property) ? `${parent}[${e.property}]` : parent ? `${parent}.${e.property}` : e.property;
    const constraints = e.constraints ?? {};
    // The first-written decorator (the basic type check) is the last one class-validator lists.
    const [rule, message] = Object.entries(constraints).pop() ?? [];
    const own =
      rule === 'whitelistValidation' ? 'is not a known setting'
      : rule === 'nestedValidation' ? 'must be a mapping of settings'
      : message?.replace(new RegExp(`^(each value in )?${e.property} `), '');
    return [...(own ? [`${key}: ${own}`] : []), ...problems(e.children ?? [], key)];
  });
}

/** Validates a parsed configuration document (defaults filled in); throws a ConfigError naming the keys at fault. */
export function validateConfig(raw: unknown): LbConfig {
  if (!isMapping(raw)) throw new ConfigError('the configuration must be a mapping of settings');
  const config = plainToInstance(LbConfig, raw, { exposeDefaultValues: true });
  const found = problems(validateSync(config, { whitelist: true, forbidNonWhitelisted: true }));
  const names = Array.isArray(config.backends) ? config.backends.map((b) => b?.name) : [];
  const dup = names.findIndex((n, i) => names.indexOf(n) !== i);
  if (dup >= 0) found.push(`backends[${dup}].name: "${names[dup]}" is used twice`);
  const t = config.timeouts;
  if (t instanceof TimeoutsConfig && t.headersMs > t.requestMs) found.push('timeouts.headersMs: must not exceed timeouts.requestMs');
  if (found.length > 0) throw new ConfigError(found.join('; '));
  return config;
}
