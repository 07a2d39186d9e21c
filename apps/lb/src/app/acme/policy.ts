/** Pure decisions of the ACME manager: when a certificate is due, when to try again, when to raise a problem. No I/O. */

export const DAY_MS = 86_400_000;

/** What the manager knows about the certificate on disk. */
export interface CertFacts {
  notBefore: Date;
  notAfter: Date;
  /** DNS names in its subjectAltName, lower case. */
  names: string[];
}

export type RenewReason = 'missing' | 'names' | 'due' | 'expired';

/**
 * The moment renewal starts: `renewAt` of the lifetime after notBefore, moved earlier by up to
 * `jitter` of the lifetime (`random` in [0, 1), fixed per certificate so the answer is stable).
 */
export function renewalPoint(cert: Pick<CertFacts, 'notBefore' | 'notAfter'>, renewAt: number, jitter: number, random: number): Date {
  const start = cert.notBefore.getTime();
  const lifetime = Math.max(0, cert.notAfter.getTime() - start);
  const fraction = Math.min(1, Math.max(0, renewAt - jitter * random));
  return new Date(start + lifetime * fraction);
}

/** Why a new certificate must be ordered now, or undefined when the one on disk is good. */
export function renewReason(cert: CertFacts | undefined, wanted: string[], now: Date, point: Date | undefined): RenewReason | undefined {
  if (!cert) return 'missing';
  const have = new Set(cert.names.map((n) => n.toLowerCase()));
  if (!wanted.every((n) => have.has(n.toLowerCase()))) return 'names';
  if (now.getTime() >= cert.notAfter.getTime()) return 'expired';
  if (point && now.getTime() >= point.getTime()) return 'due';
  return undefined;
}

/** Delay before retry number `failures` (1, 2, …): exponential from minMs, capped at maxMs, with up to 20 % taken off at random. */
export function backoffDelay(failures: number, minMs: number, maxMs: number, random: number): number {
  const exp = minMs * 2 ** Math.min(30, Math.max(0, failures - 1));
  const capped = Math.min(maxMs, exp);
  return Math.max(minMs > 0 ? Math.min(minMs, capped) : 0, Math.round(capped * (1 - 0.2 * random)));
}

/** Days left until notAfter (may be negative), one decimal. */
export function daysLeft(notAfter: Date, now: Date): number {
  return Math.round(((notAfter.getTime() - now.getTime()) / DAY_MS) * 10) / 10;
}

/** Renewal failing and the certificate (if any) expires within `problemDays`. */
export function isProblem(cert: Pick<CertFacts, 'notAfter'> | undefined, failing: boolean, now: Date, problemDays: number): boolean {
  if (!failing) return false;
  if (!cert) return true;
  return cert.notAfter.getTime() - now.getTime() <= problemDays * DAY_MS;
}

/** The largest delay a Node timer takes (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** When the next check runs: the renewal point (or now when due), but never later than `checkEveryMs` from now. */
export function nextCheckDelay(point: Date | undefined, now: Date, checkEveryMs: number): number {
  const until = point ? Math.max(0, point.getTime() - now.getTime()) : 0;
  return Math.min(until, checkEveryMs, MAX_TIMER_MS);
}

/** One line, bounded, no PEM blocks: safe for status() and logs. */
export function oneLine(message: string, max = 300): string {
  const flat = message
    .replace(/-----BEGIN [^-]+-----[\s\S]*?(-----END [^-]+-----|$)/g, '[pem redacted]')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
