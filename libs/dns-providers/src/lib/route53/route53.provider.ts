import { DnsProvider, ProviderError, RECORD_TYPES, RecordSet, RecordType } from '../provider';
import { Route53Api } from './api';
import { oneLine } from './errors';
import { canonicalValues, normalName } from './names';
import { replacementChanges, StoredSet, storedMatches, storedSetsOf, toRecordSet } from './record-sets';
import { resolveSettings, Route53Settings } from './settings';

const MAX_TTL = 2_147_483_647;

/**
 * Publishes the controller's A/AAAA sets to one Route 53 hosted zone, through Route53Api (rate
 * limit, bounded requests, retries of throttled answers, INSYNC polling).
 */
export class Route53Provider implements DnsProvider {
  readonly id: string;
  private readonly api: Route53Api;
  /** The sets `read` last saw, in Route 53's spelling: a DELETE must repeat the stored text exactly. */
  private readonly seen = new Map<string, StoredSet>();

  constructor(settings: Route53Settings) {
    const resolved = resolveSettings(settings);
    this.id = resolved.id;
    this.api = new Route53Api(resolved);
  }

  async read(name: string): Promise<Record<RecordType, RecordSet>> {
    const n = this.checkName(name);
    const listed = await this.api.listSetsOf(n, 'A');
    let stored: Partial<Record<RecordType, StoredSet>>;
    try {
      stored = storedSetsOf(n, listed);
    } catch (e) {
      throw new ProviderError('config', oneLine(`route53 zone ${this.api.settings.hostedZoneId}: ${(e as Error).message}`, this.api.secrets));
    }
    const out = {} as Record<RecordType, RecordSet>;
    for (const type of RECORD_TYPES) {
      const set = stored[type];
      if (set) this.seen.set(`${n} ${type}`, set);
      else this.seen.delete(`${n} ${type}`);
      try {
        out[type] = toRecordSet(type, set);
      } catch (e) {
        throw new ProviderError('refused', oneLine(`route53 ${n} ${type}: Route 53 served a value that is not an address: ${(e as Error).message}`, this.api.secrets));
      }
    }
    return out;
  }

  async replace(name: string, type: RecordType, from: RecordSet, to: string[], ttl: number): Promise<void> {
    const n = this.checkName(name);
    const subject = `${n} ${type}`;
    if (!RECORD_TYPES.includes(type)) throw new ProviderError('config', `route53 replace ${n}: type must be A or AAAA (got '${String(type)}')`);
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) throw new ProviderError('config', `route53 replace ${subject}: ttl must be an integer 0..${MAX_TTL} (got ${ttl})`);
    const target = this.addresses(subject, 'to', type, to);
    const old = this.storedFrom(subject, type, from);
    // Nothing there and nothing wanted: no change to make.
    if (old === undefined && target.length === 0) return;
    const change = await this.api.change(subject, replacementChanges(n, type, old, target, ttl)).catch((e: unknown) => {
      if (e instanceof ProviderError && e.kind === 'conflict') this.seen.delete(subject);
      throw e;
    });
    if (target.length === 0) this.seen.delete(subject);
    else this.seen.set(subject, { values: target, ttl });
    await this.api.waitInSync(subject, change.id, change.status);
  }

  close(): void {
    this.api.close();
  }

  private checkName(name: string): string {
    const n = typeof name === 'string' ? normalName(name) : '';
    if (!n || n.length > 253) throw new ProviderError('config', `route53: name must be a fully qualified domain name (got '${String(name)}')`);
    return n;
  }

  private addresses(subject: string, field: string, type: RecordType, values: readonly string[]): string[] {
    try {
      return canonicalValues(type, values);
    } catch (e) {
      throw new ProviderError('config', `route53 replace ${subject}: ${field}: ${(e as Error).message}`);
    }
  }

  /** The exact set to DELETE for `from`: as `read` saw it stored when that matches, else `from` itself. */
  private storedFrom(subject: string, type: RecordType, from: RecordSet): StoredSet | undefined {
    const values = this.addresses(subject, 'from.values', type, from.values);
    if (values.length === 0) return undefined;
    if (from.ttl === null || !Number.isInteger(from.ttl)) {
      throw new ProviderError('config', `route53 replace ${subject}: from.ttl is required when from.values is not empty`);
    }
    const seen = this.seen.get(subject);
    return seen && storedMatches(type, seen, { values, ttl: from.ttl }) ? seen : { values, ttl: from.ttl };
  }
}
