/** The record types the controller publishes: one A or AAAA record per published node address. */
export type RecordType = 'A' | 'AAAA';
export const RECORD_TYPES: readonly RecordType[] = ['A', 'AAAA'];

/** What a provider serves for one name and type: its addresses (sorted, canonical text) and TTL. */
export interface RecordSet {
  /** Canonical: IPv4 dotted quads; IPv6 in the RFC 5952 form (`new URL('http://[..]').hostname` without brackets). */
  values: string[];
  /** The TTL served; null when the set is empty. */
  ttl: number | null;
}

/** Why a provider call failed; the controller retries all but `auth` and `config` soon, and reports each. */
export type ProviderErrorKind =
  /** The credentials were refused (TSIG BADSIG/BADKEY/NOTAUTH, AWS 403). */
  | 'auth'
  /** The conditional update's prerequisite failed: the provider no longer serves `from` (another writer, a hand edit). */
  | 'conflict'
  /** No answer in time, connection refused, or a network error. */
  | 'unreachable'
  /** Rate limited (Route 53 Throttling); retried after a backoff. */
  | 'throttled'
  /** The provider refused the request for another reason (REFUSED, NOTZONE, SERVFAIL, a 4xx/5xx). */
  | 'refused'
  /** A setting is wrong (no such zone, the name is outside the zone). */
  | 'config';

/** A provider's failure: one line fit for logs and the status page, never a secret. */
export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/**
 * One authoritative DNS service the records are published to (BIND over RFC 2136, Route 53, ...).
 * Every call is bounded in time (it throws ProviderError 'unreachable' rather than hang).
 */
export interface DnsProvider {
  /** A short label for logs, metrics and the status page (`rfc2136`, `route53`), unique among the configured ones. */
  readonly id: string;
  /** What the provider serves now for `name` (fully qualified, no trailing dot), by type; an absent type has values []. */
  read(name: string): Promise<Record<RecordType, RecordSet>>;
  /**
   * Replaces the `type` set of `name` with `to` (TTL `ttl`), only if the provider still serves exactly
   * `from` (values; [] meaning no such set): RFC 2136 prerequisites, or a Route 53 change batch that
   * DELETEs the exact old set. Throws ProviderError 'conflict' when `from` no longer holds. An empty
   * `to` removes the set: the controller asks it only when every node with an address of that type is
   * drained (otherwise it fails open). Resolves once the change is applied (Route 53: INSYNC).
   */
  replace(name: string, type: RecordType, from: RecordSet, to: string[], ttl: number): Promise<void>;
  /** Releases sockets and timers. */
  close?(): Promise<void> | void;
}
