import { randomInt } from 'node:crypto';
import { TxtRecords, txtStrings, txtValueProblem } from '../txt/txt-records';
import { norm, Rfc2136Client, Rfc2136Options, Rfc2136Settings } from './client';
import { txtUpdateMessage } from './wire';

const MAX_TTL = 2_147_483_647;

/**
 * DNS-01 TXT values on an RFC 2136 server (BIND, Knot, PowerDNS): one TSIG-signed UPDATE per call,
 * adding one record to the TXT set or deleting just that record from it (no prerequisites: other
 * values at the name stay). Resolves once the primary answered NOERROR.
 */
export class Rfc2136TxtRecords implements TxtRecords {
  readonly id: string;
  private readonly client: Rfc2136Client;

  constructor(settings: Rfc2136Settings, options: Rfc2136Options = {}) {
    this.client = new Rfc2136Client(settings, options);
    this.id = this.client.id;
  }

  async add(name: string, value: string, ttl: number): Promise<void> {
    const what = `add ${norm(String(name))} TXT`;
    const n = this.check(name, value, what);
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) throw this.client.error('config', what, `TTL ${ttl} is not an integer in 0..${MAX_TTL}`);
    await this.client.update(txtUpdateMessage({ id: randomInt(0x10000), zone: this.client.zone, name: n, action: 'add', strings: txtStrings(value), ttl }), what);
  }

  async remove(name: string, value: string): Promise<void> {
    const what = `remove ${norm(String(name))} TXT`;
    const n = this.check(name, value, what);
    await this.client.update(txtUpdateMessage({ id: randomInt(0x10000), zone: this.client.zone, name: n, action: 'delete', strings: txtStrings(value), ttl: 0 }), what);
  }

  close(): void {
    this.client.close();
  }

  private check(name: string, value: string, what: string): string {
    const n = this.client.checkName(String(name), what);
    const problem = txtValueProblem(value);
    if (problem) throw this.client.error('config', what, problem);
    return n;
  }
}
