import { ProviderError, ProviderErrorKind } from '../provider';

export type Operation = 'ListResourceRecordSets' | 'ChangeResourceRecordSets' | 'GetChange';

/** What is known about one failed request, taken from an SDK or network error. */
export interface Failure {
  /** The service's error code (`Throttling`), a Node error code (`ECONNREFUSED`) or the error's name. */
  code: string;
  /** The HTTP status when the service answered; undefined when no answer arrived. */
  status?: number;
  message: string;
}

/** How the provider treats a failure: the kind reported, and whether the same request may be sent again. */
export interface Verdict {
  kind: ProviderErrorKind;
  retry: boolean;
}

const THROTTLE_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'PriorRequestNotComplete',
  'SlowDown',
]);
const AUTH_CODES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'ExpiredToken',
  'ExpiredTokenException',
  'IncompleteSignature',
  'InvalidSignatureException',
  'MissingAuthenticationToken',
]);
const CONFIG_CODES = new Set(['NoSuchHostedZone', 'InvalidInput', 'InvalidDomainName', 'CredentialsProviderError']);

/** Reads code, HTTP status and message from whatever the SDK (or the network below it) threw. */
export function describeFailure(e: unknown): Failure {
  if (!(e instanceof Error)) return { code: 'Error', message: String(e) };
  const x = e as Error & { code?: unknown; $metadata?: { httpStatusCode?: unknown }; messages?: unknown };
  const status = typeof x.$metadata?.httpStatusCode === 'number' ? x.$metadata.httpStatusCode : undefined;
  const code = status === undefined && typeof x.code === 'string' ? x.code : x.name;
  const listed = Array.isArray(x.messages) ? x.messages.filter((m): m is string => typeof m === 'string') : [];
  const message = listed.length > 0 && !x.message ? listed.join(', ') : x.message;
  return { code, status, message };
}

/**
 * The one decision about a failure. Throttling is retried for every call (Route 53 did not apply a
 * throttled request); a 5xx only for reads (a change that failed with 500 may still have been applied,
 * so it is reported rather than sent again); a timeout or network error is never retried here (the
 * bound of the call would multiply; the controller retries soon).
 */
export function classify(f: Failure, op: Operation): Verdict {
  if (f.code === 'CredentialsProviderError') return { kind: 'config', retry: false };
  if (f.status === undefined) return { kind: 'unreachable', retry: false };
  if (THROTTLE_CODES.has(f.code) || f.status === 429 || (f.status === 400 && /throttl|rate exceeded/i.test(`${f.code} ${f.message}`))) {
    return { kind: 'throttled', retry: true };
  }
  if (AUTH_CODES.has(f.code) || f.status === 401 || f.status === 403) return { kind: 'auth', retry: false };
  if (CONFIG_CODES.has(f.code)) return { kind: 'config', retry: false };
  if (f.code === 'InvalidChangeBatch') {
    if (/not permitted in zone/i.test(f.message)) return { kind: 'config', retry: false };
    if (/was not found|do not match|already exists/i.test(f.message)) return { kind: 'conflict', retry: false };
  }
  if (f.status >= 500) return { kind: 'refused', retry: op !== 'ChangeResourceRecordSets' };
  return { kind: 'refused', retry: false };
}

/** One line, at most `max` characters, with every given secret and any SigV4 signature removed. */
export function oneLine(text: string, secrets: readonly string[], max = 300): string {
  let out = text.replace(/\s+/g, ' ').trim();
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('[redacted]');
  out = out.replace(/(Signature|Credential)=[^\s,]+/gi, '$1=[redacted]');
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

const WHY: Record<ProviderErrorKind, string> = {
  auth: 'the credentials were refused',
  conflict: 'the record set no longer holds what was read',
  unreachable: 'no answer',
  throttled: 'still throttled after retries',
  refused: 'refused',
  config: 'a setting is wrong',
};

/** The ProviderError for a failure: `route53 <op> <subject>: <why> (<code>, HTTP <status>): <message>`. */
export function toProviderError(f: Failure, verdict: Verdict, op: Operation, subject: string, secrets: readonly string[]): ProviderError {
  const where = f.status === undefined ? f.code : `${f.code}, HTTP ${f.status}`;
  return new ProviderError(verdict.kind, oneLine(`route53 ${op} ${subject}: ${WHY[verdict.kind]} (${where}): ${f.message}`, secrets));
}
