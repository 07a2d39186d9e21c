// Load balancer stats and admin DTOs (apps/lb).
import { IsIn } from 'class-validator';

/** What an operator sets at run time: take new requests, finish in-flight ones only, or stop checking too. */
export const LB_ADMIN_STATES = ['ready', 'drain', 'maint'] as const;
export type LbAdminState = (typeof LB_ADMIN_STATES)[number];

/** A backend's overall state, as HAProxy names it: serving, failed its checks, draining, in maintenance. */
export type LbBackendStatus = 'UP' | 'DOWN' | 'DRAIN' | 'MAINT';

/** Why a request to a backend failed. `stale`: a reused keep-alive connection the backend had closed. */
export const LB_ERROR_KINDS = ['connect', 'reset', 'stale', 'timeout', 'http5xx', 'protocol'] as const;
export type LbErrorKind = (typeof LB_ERROR_KINDS)[number];

/** Responses by status class. */
export interface LbResponses {
  '1xx': number;
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
}

/** Percentiles of the time from receiving a request to the end of its response, in milliseconds. */
export interface LbLatency {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

/** The last active health check of a backend. */
export interface LbCheckResult {
  ok: boolean;
  /** HTTP status of the check, when it got one. */
  status?: number;
  error?: string;
  durationMs: number;
  at: string;
}

export interface LbBackendStats {
  name: string;
  url: string;
  /** A backup (another node's lb): used only while no local backend is UP. */
  backup: boolean;
  status: LbBackendStatus;
  /** What the checks say. */
  health: 'up' | 'down';
  /** What an operator said. */
  admin: LbAdminState;
  weight: number;
  /** The weight in use now: below `weight` while a recovered backend ramps up (slow start). */
  effectiveWeight: number;
  /** When `status` last changed, and why. */
  lastChange: string;
  lastChangeReason: string;
  check: LbCheckResult | null;
  /** Requests in flight on this backend (WebSocket tunnels included). */
  active: number;
  /** Requests sent to this backend, retries included. */
  total: number;
  /** Attempts on this backend that failed and were retried on another. */
  retries: number;
  responses: LbResponses;
  errors: Record<LbErrorKind, number>;
  latency: LbLatency;
}

/** Requests as the clients saw them, whichever backend served them. */
export interface LbFrontendStats {
  /** Client connections open now. */
  connections: number;
  /** `limits.maxConnections` in force, over all workers (lowered where the open-file limit allows fewer). */
  connectionLimit: number;
  /** New client connections refused (503, closed), by the limit that refused them. */
  connectionsRefused: { maxConnections: number; maxConnectionsPerAddress: number };
  /** Idle client connections closed to stay within `limits.maxIdleConnections`, or to free file descriptors. */
  idleClosed: number;
  /** Errors of the listening socket (e.g. out of file descriptors); accepting goes on. */
  acceptErrors: number;
  /** Access-log lines dropped because the log's destination did not keep up. */
  accessLogDropped: number;
  /** lb's own log lines dropped for the same reason. */
  logDropped: number;
  /** Requests in flight now. */
  active: number;
  total: number;
  responses: LbResponses;
  /** Malformed or hostile requests answered by lb itself (400, 405, 408, 431). */
  rejected: number;
  /** 503s: no backend was available. */
  noBackend: number;
  /** Requests waiting for a backend below its `maxconn`, now. */
  queued: number;
  /** 503s: the queue was full or the wait exceeded `queue.timeoutMs`. */
  queueTimeouts: number;
  queueFull: number;
  /** Clients that went away before their response was complete. */
  clientAborts: number;
  websockets: number;
  latency: LbLatency;
}

export interface LbStats {
  algorithm: 'round-robin' | 'least-outstanding';
  workers: number;
  uptimeSeconds: number;
  /** Draining after SIGTERM: no longer ready. */
  draining: boolean;
  config: {
    source: string;
    loadedAt: string;
    /** The last reload that failed (the previous configuration stayed in force), until one succeeds. */
    lastReloadError: string | null;
  };
  frontend: LbFrontendStats;
  backends: LbBackendStats[];
  /** The visitors' certificates (`https.certificates`, then ACME's), in configured order; absent without https. */
  certificates?: LbCertificateStats[];
  /** Automatic certificates (`https.acme`); absent without them. */
  acme?: LbAcmeStats;
}

/** The ACME side: one certificate for every configured name, obtained and renewed by lb's primary. */
export interface LbAcmeStats {
  /** `ordering` while an order is under way; `failing` after a failed attempt, until one succeeds. */
  state: 'idle' | 'ordering' | 'ok' | 'failing';
  directoryUrl: string;
  /** How the names are validated: `http-01` (the plain listener) or `dns-01` (TXT records). */
  challengeType: 'http-01' | 'dns-01';
  /** Failed attempts in a row. */
  failures: number;
  /** A DNS-01 TXT record that could not be taken down after an order (one line), until one is. */
  cleanupError?: string;
  names: LbAcmeNameStats[];
}

export interface LbAcmeNameStats {
  name: string;
  /** The certificate on disk covers this name. */
  covered: boolean;
  issuer?: string;
  notBefore?: string;
  notAfter?: string;
  daysLeft?: number;
  /** When renewal is due. */
  renewAt?: string;
  lastAttemptAt?: string;
  lastSuccessAt?: string;
  /** Why the last attempt failed (one line), until one succeeds. */
  lastError?: string;
  nextAttemptAt?: string;
}

/** One certificate of lb's HTTPS listener, as the primary last read it. */
export interface LbCertificateStats {
  /** The certificate (chain) file. */
  file: string;
  /** DNS names of its subjectAltName (`*.example.org` for a wildcard). */
  names: string[];
  issuer: string | null;
  notBefore: string | null;
  notAfter: string | null;
  /** Whole days until notAfter. */
  daysLeft: number | null;
  /** When the certificate in force was read. */
  lastReload: string | null;
  /** Why the last read of its files failed (the one before stays in force), until one succeeds. */
  lastReloadError: string | null;
}

/** Body of `POST /backends/:name/state`. */
export class LbBackendStateDto {
  @IsIn(LB_ADMIN_STATES, { message: `state must be one of: ${LB_ADMIN_STATES.join(', ')}` })
  state!: LbAdminState;
}
