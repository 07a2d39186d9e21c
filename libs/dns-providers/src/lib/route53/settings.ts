import { ProviderError } from '../provider';

export interface Route53Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface Route53Settings {
  /** The provider's label in logs, metrics and the status page; default `route53`. */
  id?: string;
  /** The hosted zone (`Z0123456789ABCDEFGHIJ`, a `/hostedzone/` prefix is accepted). */
  hostedZoneId: string;
  /** Default us-east-1 (Route 53 is global; this is the SigV4 signing region). */
  region?: string;
  /** Only for a Route 53-compatible API or the tests' stand-in; default: AWS's endpoint for the region. */
  endpoint?: string;
  /** Default: the SDK's default provider chain (AWS_* environment, ~/.aws files, SSO, instance roles). */
  credentials?: Route53Credentials;
  /** Bound on each request (connect, send, answer), in ms. */
  timeoutMs: number;
  /** How long `replace` waits for the change to be INSYNC, in ms; default 120 000. */
  syncTimeoutMs?: number;
  /** Requests per second this provider sends at most; default 5 (Route 53's per-account limit). */
  requestsPerSecond?: number;
  /** Retries of throttled answers (and of 5xx answers to reads): attempts in all, and the backoff. */
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** GetChange polling while a change is PENDING: first delay, growing by half each time up to max. */
  syncPoll?: { initialMs?: number; maxMs?: number };
}

/** The settings with every default filled in. */
export interface ResolvedRoute53Settings {
  id: string;
  hostedZoneId: string;
  region: string;
  endpoint?: string;
  credentials?: Route53Credentials;
  timeoutMs: number;
  syncTimeoutMs: number;
  requestsPerSecond: number;
  retry: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  syncPoll: { initialMs: number; maxMs: number };
}

function bad(field: string, why: string): ProviderError {
  return new ProviderError('config', `route53 settings: ${field} ${why}`);
}

function positive(field: string, value: number | undefined, fallback: number | undefined, integer = false): number {
  const v = value ?? fallback;
  if (v === undefined) throw bad(field, 'is required');
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw bad(field, `must be a positive ${integer ? 'integer' : 'number'} (got ${String(v)})`);
  }
  return v;
}

/** Validates the settings (one line naming the field, never a secret's value) and fills in defaults. */
export function resolveSettings(s: Route53Settings): ResolvedRoute53Settings {
  const id = s.id ?? 'route53';
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(id)) throw bad('id', `must be a short label of letters, digits, - and _ (got '${id}')`);
  const hostedZoneId = (s.hostedZoneId ?? '').trim().replace(/^\/?hostedzone\//, '');
  if (!/^[A-Z0-9]{1,32}$/i.test(hostedZoneId)) throw bad('hostedZoneId', `must be a hosted zone id such as Z0123456789ABCDEFGHIJ (got '${s.hostedZoneId ?? ''}')`);
  const region = s.region ?? 'us-east-1';
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw bad('region', `must be an AWS region such as us-east-1 (got '${region}')`);
  if (s.endpoint !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(s.endpoint);
    } catch {
      url = undefined;
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.username || url.password) {
      throw bad('endpoint', 'must be an http(s) URL without credentials');
    }
  }
  const c = s.credentials;
  if (c !== undefined) {
    if (typeof c.accessKeyId !== 'string' || !/^\w{16,128}$/.test(c.accessKeyId)) {
      throw bad('credentials.accessKeyId', 'must be an access key id (16-128 letters, digits or _)');
    }
    if (typeof c.secretAccessKey !== 'string' || c.secretAccessKey.length === 0) throw bad('credentials.secretAccessKey', 'is required');
    if (c.sessionToken !== undefined && (typeof c.sessionToken !== 'string' || c.sessionToken.length === 0)) {
      throw bad('credentials.sessionToken', 'must not be empty when given');
    }
  }
  return {
    id,
    hostedZoneId,
    region,
    endpoint: s.endpoint,
    credentials: c && { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken },
    timeoutMs: positive('timeoutMs', s.timeoutMs, undefined),
    syncTimeoutMs: positive('syncTimeoutMs', s.syncTimeoutMs, 120_000),
    requestsPerSecond: positive('requestsPerSecond', s.requestsPerSecond, 5),
    retry: {
      attempts: positive('retry.attempts', s.retry?.attempts, 5, true),
      baseDelayMs: positive('retry.baseDelayMs', s.retry?.baseDelayMs, 250),
      maxDelayMs: positive('retry.maxDelayMs', s.retry?.maxDelayMs, 4_000),
    },
    syncPoll: {
      initialMs: positive('syncPoll.initialMs', s.syncPoll?.initialMs, 2_000),
      maxMs: positive('syncPoll.maxMs', s.syncPoll?.maxMs, 10_000),
    },
  };
}
