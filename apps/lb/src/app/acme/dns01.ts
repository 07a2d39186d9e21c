import type { TxtRecords } from '@vita/dns-providers';
import { oneLine } from './policy';

/** The TTL of the TXT records published for DNS-01 (they live only while a challenge is pending). */
export const DNS01_TTL = 60;

/**
 * The name whose TXT record answers the DNS-01 challenge for an identifier (RFC 8555 §8.4):
 * `_acme-challenge.<name>`, the wildcard's base name for `*.<name>` (an authorization for a wildcard
 * carries the base name, with `wildcard: true`). Pure.
 */
export function dns01RecordName(identifier: string): string {
  return `_acme-challenge.${identifier.trim().toLowerCase().replace(/^\*\./, '').replace(/\.$/, '')}`;
}

/**
 * The TXT values one order publishes. Each challenge's value is added on its own and removed on its
 * own (the apex and the wildcard of a name share one `_acme-challenge` name, each with its value), and
 * `removeAll` takes down whatever is still up however the order ended, including a value whose add
 * failed half-way (it may have been applied).
 */
export class Dns01Challenges {
  private readonly up = new Map<string, { fqdn: string; value: string }>();

  constructor(
    private readonly records: TxtRecords,
    private readonly propagationMs = 0,
  ) {}

  /** Publishes the value for `identifier`, then waits `propagationMs` (secondaries catching up). Throws one line, no secret. */
  async publish(identifier: string, value: string): Promise<void> {
    const fqdn = dns01RecordName(identifier);
    this.up.set(`${fqdn} ${value}`, { fqdn, value });
    try {
      await this.records.add(fqdn, value, DNS01_TTL);
    } catch (e) {
      throw new Error(oneLine(`DNS-01 for ${identifier}: publishing the ${fqdn} TXT record failed: ${(e as Error).message}`));
    }
    if (this.propagationMs > 0) await new Promise((r) => setTimeout(r, this.propagationMs));
  }

  /** Removes the value for `identifier`; on failure it stays listed for removeAll. */
  async unpublish(identifier: string, value: string): Promise<void> {
    const fqdn = dns01RecordName(identifier);
    const key = `${fqdn} ${value}`;
    if (!this.up.has(key)) return;
    await this.records.remove(fqdn, value);
    this.up.delete(key);
  }

  /** Removes every value still published; resolves with one line per value that could not be removed. */
  async removeAll(): Promise<string[]> {
    const failed: string[] = [];
    await Promise.all(
      [...this.up].map(async ([key, { fqdn, value }]) => {
        try {
          await this.records.remove(fqdn, value);
          this.up.delete(key);
        } catch (e) {
          failed.push(oneLine(`DNS-01: removing a ${fqdn} TXT record failed: ${(e as Error).message}`));
        }
      }),
    );
    return failed;
  }

  /** How many values are still published. */
  get pending(): number {
    return this.up.size;
  }
}
