import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
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
import { hostname } from 'node:os';
import { join } from 'node:path';
import { IsPeerUrl, SITE_NODE_NAME } from '@vita/contracts';
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

/** What a local backend and a backup have in common. */
abstract class ServerConfig {
  @IsString() @Matches(BACKEND_NAME, { message: 'must be letters, digits, _ . - (at most 64)' }) name!: string;
  abstract url: string;
  /** Share of requests relative to the other backends. */
  @Whole(1, 256) weight = 1;
  /** Requests in flight at once on this backend (over all workers); more wait in the queue. */
  @Whole(1, 100_000) maxconn = 256;
}

/** A backend of this node (web or api instances): plain HTTP on the node's own network. */
export class BackendConfig extends ServerConfig {
  @IsString() @Matches(HTTP_URL, { message: 'must be an http URL (http://host:port)' }) url!: string;
}

/**
 * Another node's lb, used only while no local backend is UP (HAProxy's `backup` servers, with
 * `option allbackups`): `https://` verified against `backupCa` and the URL's host name.
 */
export class BackupConfig extends ServerConfig {
  @IsString() @IsPeerUrl(false, { message: 'must be an http or https URL (http(s)://host:port, the port from 1 to 65535)' }) url!: string;
}

/** A second listener, for other nodes' lbs: the same routing, over TLS. */
export class PeerListenConfig {
  /** `host:port`; unset: no peer listener. */
  @IsOptional() @IsString() @Matches(HOST_PORT, { message: 'must be host:port' }) listen?: string;
  /** PEM certificate (chain) file; required with `listen`. */
  @IsOptional() @IsString() @MinLength(1) tlsCert?: string;
  /** PEM private key file (keep it mode 600); required with `listen`. */
  @IsOptional() @IsString() @MinLength(1) tlsKey?: string;
}

/** One certificate of the HTTPS listener: PEM files, the names it serves taken from its subjectAltName. */
export class CertificateFilesConfig {
  /** Certificate chain (leaf first). */
  @IsString() @MinLength(1) cert!: string;
  /** Private key (keep it mode 600). */
  @IsString() @MinLength(1) key!: string;
}

/** A DNS name as a certificate may carry it (`*.` only as the whole first label). */
const CERT_NAME = /^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** DNS-01: the `_acme-challenge` TXT records written through a DNS provider (what apps/dns publishes with). */
export class Dns01Config {
  @IsIn(['rfc2136', 'route53'], { message: 'must be rfc2136 or route53' }) kind!: 'rfc2136' | 'route53';
  /** rfc2136: the primary that takes updates, `host:port`. */
  @IsOptional() @IsString() server?: string;
  /** rfc2136: the zone the names live in. */
  @IsOptional() @IsString() zone?: string;
  /** rfc2136: a BIND key file (`tsig-keygen`) with the hmac-sha256 key; read once, never logged. */
  @IsOptional() @IsString() keyFile?: string;
  /** rfc2136: which key of the file, when it holds several. */
  @IsOptional() @IsString() keyName?: string;
  /** route53: the hosted zone id; credentials come from the AWS SDK's usual sources (AWS_ACCESS_KEY_ID, …). */
  @IsOptional() @IsString() hostedZoneId?: string;
  /** route53: the signing region. */
  @IsOptional() @IsString() region?: string;
  /** route53: a Route 53-compatible endpoint instead of AWS's. */
  @IsOptional() @IsString() endpoint?: string;
  /** Bound on each DNS update. */
  @Whole(100, 120_000) timeoutMs = 5000;
  /** Wait this long after publishing before the CA validates (secondary servers catching up). */
  @Whole(0, 600_000) propagationMs = 0;
}

/**
 * Automatic certificates (ACME, RFC 8555): one certificate for `names`, obtained and renewed by the
 * primary process, written to `dir` and served by every worker.
 */
export class AcmeConfig {
  /** DNS names the certificate covers (the first is its common name). */
  @IsArray() @ArrayMinSize(1, { message: 'must list at least one DNS name' }) @IsString({ each: true }) @Matches(CERT_NAME, { each: true, message: 'each entry must be a DNS name' })
  names: string[] = [];
  /** The ACME server's directory; default: Let's Encrypt's production server. */
  @IsString() @Matches(/^https:\/\/[^\s]+$/, { message: 'must be an https URL' }) directoryUrl = 'https://acme-v02.api.letsencrypt.org/directory';
  /** The account's contact address (optional). */
  @IsOptional() @IsString() @Matches(/^[^\s@]+@[^\s@]+$/, { message: 'must be an e-mail address' }) email?: string;
  /** lb's ACME folder: account.key, cert.pem, key.pem (mode 600) and challenges/. Shared by nothing else. */
  @IsString() @MinLength(1) dir!: string;
  /** PEM file of an extra root the ACME server's own HTTPS is verified against (a private ACME server). */
  @IsOptional() @IsString() @MinLength(1) caFile?: string;
  /** Renew once this fraction of the certificate's lifetime has passed. */
  @IsNumber() @Min(0.1) @Max(0.9) renewAt = 2 / 3;
  /** First wait after a failed attempt, doubled per failure up to retryMaxMs. */
  @Whole(1000, 86_400_000) retryMinMs = 60_000;
  @Whole(1000, 86_400_000) retryMaxMs = 3_600_000;
  /** Alert (error log and LB_ALERT_WEBHOOK_URL) while renewal fails and expiry is this close. */
  @Whole(1, 90) alertDays = 14;
  /** Bound on each request to the ACME server. */
  @Whole(1000, 120_000) timeoutMs = 30_000;
  /** Bound on a whole attempt (every request and poll of one order). */
  @Whole(5000, 3_600_000) attemptTimeoutMs = 120_000;
  /** Validate through DNS (DNS-01) instead of HTTP-01: needed for wildcard names. */
  @IsOptional() @ValidateNested() @Type(() => Dns01Config) dns01?: Dns01Config;
}

/** The visitors' HTTPS listener (TLS 1.2 and 1.3), and what the plain listener does beside it. */
export class HttpsConfig {
  @IsString() @Matches(HOST_PORT, { message: 'must be host:port' }) listen = '0.0.0.0:443';
  /** The first is the default, for clients that send no SNI name or one no certificate serves. Optional with `acme`. */
  @IsArray() @ValidateNested({ each: true }) @Type(() => CertificateFilesConfig)
  certificates: CertificateFilesConfig[] = [];
  /** Obtain and renew a certificate automatically (its files come after `certificates`). */
  @IsOptional() @ValidateNested() @Type(() => AcmeConfig) acme?: AcmeConfig;
  /**
   * The other content nodes' plain lb listeners (`http://host:port`): an ACME challenge token this
   * node does not hold is asked of them, so a validation that reaches any node passes.
   */
  @IsArray() @IsString({ each: true }) @Matches(/^http:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}\/?$/, { each: true, message: 'each entry must be an http URL (http://host:port)' })
  challengePeers: string[] = [];
  /** The plain listener answers ACME challenges and /health/*, and sends everything else to https (308). */
  @IsBoolean() redirectHttp = true;
  /** Host names redirected besides those the certificates serve (others get 400). */
  @IsArray() @IsString({ each: true }) @Matches(/^[A-Za-z0-9*]([A-Za-z0-9-]{0,62}\.)*[A-Za-z0-9-]{1,63}$/, { each: true, message: 'each entry must be a DNS name' }) names: string[] = [];
  /** Directory of ACME http-01 challenge files (`<dir>/<token>`, the key authorization); unset: in memory. */
  @IsOptional() @IsString() @MinLength(1) challengesDir?: string;
  /** How often the certificate files' modification times are checked; 0: only on SIGHUP. */
  @IsOffOrWhole(500, 3_600_000) pollMs = 5000;
}

/** Where the plain listener finds ACME http-01 challenges: `challengesDir`, else the ACME folder's; undefined: in memory. */
export function challengesDirOf(https: HttpsConfig): string | undefined {
  return https.challengesDir ?? (https.acme === undefined ? undefined : join(https.acme.dir, 'challenges'));
}

/** The files ACME keeps its certificate in (inside `acme.dir`). */
export function acmeFiles(acme: Pick<AcmeConfig, 'dir'>): { cert: string; key: string; accountKey: string } {
  return { cert: join(acme.dir, 'cert.pem'), key: join(acme.dir, 'key.pem'), accountKey: join(acme.dir, 'account.key') };
}

/** Every certificate the listener serves: the configured files, then ACME's (absent until first obtained). */
export function certificateList(https: HttpsConfig): { cert: string; key: string; optional?: boolean }[] {
  if (https.acme === undefined) return https.certificates;
  const { cert, key } = acmeFiles(https.acme);
  return [...https.certificates, { cert, key, optional: true }];
}

/** Host names the plain listener redirects to https: `names`, and ACME's before its certificate is in hand. */
export function redirectNames(https: HttpsConfig): string[] {
  return [...https.names, ...(https.acme?.names ?? [])].map((n) => n.toLowerCase());
}

/** Backups learned from the site topology (the local api's `/api/v1/sites/peers`). */
export class PeersConfig {
  /** URL of the peers JSON (`{ "peers": [{ "name", "url" }] }`); unset: no polling. */
  @IsOptional() @IsString() @Matches(/^https?:\/\/[^\s]+$/, { message: 'must be an http(s) URL' }) url?: string;
  @Whole(100, 3_600_000) intervalMs = 5000;
  /** A poll without a complete answer by then fails (never beyond intervalMs). */
  @Whole(10, 600_000) timeoutMs = 2000;
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
  /** The visitors' HTTPS listener; unset: plain HTTP only. */
  @IsOptional() @ValidateNested() @Type(() => HttpsConfig) https?: HttpsConfig;
  /** Data-plane processes sharing the listening socket; 0: one per CPU core. */
  @Whole(0, 64) workers = 1;
  @IsIn(ALGORITHMS, { message: `must be one of: ${ALGORITHMS.join(', ')}` }) algorithm: Algorithm = 'round-robin';
  @IsArray() @ArrayMinSize(1, { message: 'must list at least one backend (LB_CONFIG or LB_BACKENDS=name=http://host:port,…)' })
  @ValidateNested({ each: true })
  @Type(() => BackendConfig)
  backends: BackendConfig[] = [];
  /** Other nodes' lbs: used only while no backend above is UP (all healthy ones, round-robin). */
  @IsArray() @ValidateNested({ each: true }) @Type(() => BackupConfig) backups: BackupConfig[] = [];
  /**
   * This content node's name (a DNS label): sent as `x-vita-node` and `x-vita-forwarded-by`. Default:
   * the host name's first label, lower-cased (`web-a` of `Web-A.example.net`). Changes need a restart.
   */
  @IsString() @Matches(SITE_NODE_NAME, { message: 'must be a DNS label (a-z, 0-9 and -, at most 63 characters): set LB_NODE_NAME' }) nodeName: string = hostname().split('.')[0].toLowerCase();
  /** CA file (PEM) that https backups' certificates are verified against; unset: the system store. */
  @IsOptional() @IsString() @MinLength(1) backupCa?: string;
  /** backupCa's certificates, read by loadConfig (not a setting: a file that names it is refused). */
  declare backupCaCerts?: string[];
  @ValidateNested() @Type(() => PeerListenConfig) peer = new PeerListenConfig();
  @ValidateNested() @Type(() => PeersConfig) peers = new PeersConfig();
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
  const keyed = [...(Array.isArray(config.backends) ? config.backends.map((b, i) => [`backends[${i}]`, b?.name]) : []), ...(Array.isArray(config.backups) ? config.backups.map((b, i) => [`backups[${i}]`, b?.name]) : [])];
  const dup = keyed.findIndex(([, n], i) => keyed.findIndex(([, m]) => m === n) !== i);
  if (dup >= 0) found.push(`${keyed[dup][0]}.name: "${keyed[dup][1]}" is used twice`);
  const p = config.peer;
  if (p instanceof PeerListenConfig && p.listen !== undefined) {
    if (p.tlsCert === undefined) found.push('peer.tlsCert: is required with peer.listen (LB_PEER_TLS_CERT)');
    if (p.tlsKey === undefined) found.push('peer.tlsKey: is required with peer.listen (LB_PEER_TLS_KEY)');
  }
  const h = config.https;
  if (h instanceof HttpsConfig && Array.isArray(h.certificates) && h.certificates.length === 0 && h.acme === undefined) found.push('https.certificates: must list at least one { cert, key } (or set https.acme)');
  const a = h?.acme;
  if (a instanceof AcmeConfig) {
    if (a.retryMinMs > a.retryMaxMs) found.push('https.acme.retryMinMs: must not exceed https.acme.retryMaxMs');
    if (a.timeoutMs > a.attemptTimeoutMs) found.push('https.acme.timeoutMs: must not exceed https.acme.attemptTimeoutMs');
    const wildcard = Array.isArray(a.names) ? a.names.find((n) => typeof n === 'string' && n.startsWith('*.')) : undefined;
    if (wildcard !== undefined && a.dns01 === undefined) found.push(`https.acme.names: "${wildcard}" is a wildcard, which ACME validates only through DNS (set https.acme.dns01)`);
  }
  const t = config.timeouts;
  if (t instanceof TimeoutsConfig && t.headersMs > t.requestMs) found.push('timeouts.headersMs: must not exceed timeouts.requestMs');
  if (found.length > 0) throw new ConfigError(found.join('; '));
  return config;
}
