import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { RECORD_TYPES, RecordSet, RecordType } from '../provider';
import { canonicalValues, fqdn, sameName } from './names';

/** A plain (simple routing) set as Route 53 stores it: its values in Route 53's spelling, and its TTL. */
export interface StoredSet {
  values: string[];
  ttl: number;
}

const isRecordType = (t: string | undefined): t is RecordType => RECORD_TYPES.includes(t as RecordType);

/**
 * The plain A and AAAA sets of `name` among the listed sets (other names and types are ignored).
 * Throws an Error describing the first set of `name` the controller must not own: an alias, or a
 * set with a SetIdentifier (weighted, failover, latency, geo, multivalue) or a health check.
 */
export function storedSetsOf(name: string, listed: readonly ResourceRecordSet[]): Partial<Record<RecordType, StoredSet>> {
  const out: Partial<Record<RecordType, StoredSet>> = {};
  for (const s of listed) {
    if (!sameName(s.Name ?? '', name) || !isRecordType(s.Type)) continue;
    const what = `${name} ${s.Type}`;
    if (s.AliasTarget) throw new Error(`${what} is an alias record (to ${s.AliasTarget.DNSName ?? '?'}); the controller only manages plain record sets`);
    if (s.SetIdentifier !== undefined) {
      throw new Error(`${what} has a routing policy (set identifier '${s.SetIdentifier}'); the controller only manages plain record sets`);
    }
    if (s.HealthCheckId !== undefined) throw new Error(`${what} is tied to health check ${s.HealthCheckId}; the controller only manages plain record sets`);
    if (out[s.Type]) throw new Error(`${what} is listed twice`);
    out[s.Type] = { values: (s.ResourceRecords ?? []).map((r) => r.Value ?? ''), ttl: s.TTL ?? 0 };
  }
  return out;
}

/** What the controller sees of a stored set: canonical sorted values and the TTL (null when absent). */
export function toRecordSet(type: RecordType, stored: StoredSet | undefined): RecordSet {
  if (!stored || stored.values.length === 0) return { values: [], ttl: null };
  return { values: canonicalValues(type, stored.values), ttl: stored.ttl };
}

/** Whether a stored set is what the controller calls `from` (same canonical values and TTL). */
export function storedMatches(type: RecordType, stored: StoredSet, from: RecordSet): boolean {
  const a = toRecordSet(type, stored);
  return a.ttl === from.ttl && a.values.join(' ') === canonicalValues(type, from.values).join(' ');
}

/** The atomic batch: DELETE the exact old set (when there is one), then CREATE the new one. */
export function replacementChanges(name: string, type: RecordType, old: StoredSet | undefined, to: readonly string[], ttl: number): Change[] {
  const set = (values: readonly string[], t: number): ResourceRecordSet => ({
    Name: fqdn(name),
    Type: type,
    TTL: t,
    ResourceRecords: values.map((Value) => ({ Value })),
  });
  const changes: Change[] = [];
  if (old) changes.push({ Action: 'DELETE', ResourceRecordSet: set(old.values, old.ttl) });
  // No address wanted: the DELETE alone removes the set.
  if (to.length > 0) changes.push({ Action: 'CREATE', ResourceRecordSet: set(to, ttl) });
  return changes;
}
