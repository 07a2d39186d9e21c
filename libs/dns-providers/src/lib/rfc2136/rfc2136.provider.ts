import { randomInt } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { DnsProvider, RecordSet, RecordType, RECORD_TYPES } from '../provider';
import { norm, Rfc2136Client, Rfc2136Options, Rfc2136Settings } from './client';
import { decodeAddress, queryMessage, RCODE, rcodeName, replaceUpdateMessage, TYPE } from './wire';

/** Publishes A/AAAA sets with RFC 2136 dynamic updates signed with TSIG (hmac-sha256), over TCP. */
export class Rfc2136Provider implements DnsProvider {
  readonly id: string;
  private readonly client: Rfc2136Client;

  constructor(settings: Rfc2136Settings, options: Rfc2136Options = {}) {
    this.client = new Rfc2136Client(settings, options);
    this.id = this.client.id;
  }

  private async readType(name: string, type: RecordType): Promise<RecordSet> {
    const what = `query ${name} ${type}`;
    const zone = this.client.zone;
    const { response } = await this.client.exchange(queryMessage(randomInt(0x10000), name, TYPE[type]), what);
    const h = response.header;
    if (h.rcode !== RCODE.NOERROR && h.rcode !== RCODE.NXDOMAIN) {
      const hint = h.rcode === RCODE.REFUSED ? ` (does it serve zone ${zone}?)` : '';
      throw this.client.error('refused', what, `${rcodeName(h.rcode)}${hint}`);
    }
    if (!h.aa) throw this.client.error('config', what, `the answer is not authoritative (does it serve zone ${zone}?)`);
    if (h.tc) throw this.client.error('refused', what, 'the answer is truncated');
    const rrs = response.answers.filter((r) => r.type === TYPE[type] && norm(r.name) === name);
    let values: string[];
    try {
      values = [...new Set(rrs.map((r) => decodeAddress(type, r.rdata)))].sort();
    } catch (e) {
      throw this.client.error('unreachable', what, `malformed answer: ${(e as Error).message}`);
    }
    return { values, ttl: rrs.length ? Math.min(...rrs.map((r) => r.ttl)) : null };
  }

  /** The A and AAAA sets the server serves for `name` (two signed queries over TCP, RD=0, in parallel). */
  async read(name: string): Promise<Record<RecordType, RecordSet>> {
    const n = this.client.checkName(name, `read ${norm(name)}`);
    const [a, aaaa] = await Promise.all(RECORD_TYPES.map((t) => this.readType(n, t)));
    return { A: a, AAAA: aaaa };
  }

  /** One signed UPDATE: prerequisite `from` (exact values, or no set), delete the set, add `to` with `ttl` (none: the set is gone). */
  async replace(name: string, type: RecordType, from: RecordSet, to: string[], ttl: number): Promise<void> {
    const what = `update ${norm(name)} ${type}`;
    const n = this.client.checkName(name, what);
    const valid = type === 'A' ? isIPv4 : isIPv6;
    const bad = [...from.values, ...to].find((v) => !valid(v));
    if (bad !== undefined) throw this.client.error('config', what, `${JSON.stringify(bad)} is not an ${type === 'A' ? 'IPv4' : 'IPv6'} address`);
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 2_147_483_647) throw this.client.error('config', what, `TTL ${ttl} is not an integer in 0..2147483647`);
    await this.client.update(replaceUpdateMessage({ id: randomInt(0x10000), zone: this.client.zone, name: n, type, from: from.values, to, ttl }), what);
  }

  /** Destroys any connection still open. */
  close(): void {
    this.client.close();
  }
}
