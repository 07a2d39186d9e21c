import { ProviderError, type DnsProvider, type RecordSet, type RecordType } from '@vita/dns-providers';

/**
 * A provider kept in memory with the conditional semantics the real ones have (the update applies
 * only if the set is still exactly `from`). For the controller's own logic; the real providers are
 * tested against BIND and the Route 53 stand-in.
 */
export class MemoryProvider implements DnsProvider {
  readonly sets = new Map<string, RecordSet>();
  replaces = 0;
  conflicts = 0;
  failNext: ProviderError | null = null;

  constructor(readonly id = 'memory') {}

  private key = (name: string, type: RecordType) => `${name}/${type}`;

  serves(name: string, type: RecordType): string[] {
    return this.sets.get(this.key(name, type))?.values ?? [];
  }

  handEdit(name: string, type: RecordType, values: string[], ttl = 60): void {
    this.sets.set(this.key(name, type), { values: [...values].sort(), ttl });
  }

  async read(name: string): Promise<Record<RecordType, RecordSet>> {
    await this.gate();
    const get = (t: RecordType) => this.sets.get(this.key(name, t)) ?? { values: [], ttl: null };
    return { A: get('A'), AAAA: get('AAAA') };
  }

  async replace(name: string, type: RecordType, from: RecordSet, to: string[], ttl: number): Promise<void> {
    await this.gate();
    const have = this.sets.get(this.key(name, type))?.values ?? [];
    if (have.join() !== [...from.values].sort().join()) {
      this.conflicts++;
      throw new ProviderError('conflict', `the ${type} set is no longer ${from.values.join(' ') || 'empty'}`);
    }
    this.replaces++;
    if (to.length === 0) this.sets.delete(this.key(name, type));
    else this.sets.set(this.key(name, type), { values: [...to].sort(), ttl });
  }

  private async gate(): Promise<void> {
    const failure = this.failNext;
    if (failure) {
      this.failNext = null;
      throw failure;
    }
  }
}
