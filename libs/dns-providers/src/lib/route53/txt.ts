import type { Change, ResourceRecordSet } from '@aws-sdk/client-route-53';
import { ProviderError } from '../provider';
import { KeyedQueue, TxtRecords, txtStrings, txtValueProblem } from '../txt/txt-records';
import { Route53Api } from './api';
import { oneLine } from './errors';
import { fqdn, normalName, sameName } from './names';
import { StoredSet } from './record-sets';
import { resolveSettings, Route53Settings } from './settings';

const MAX_TTL = 2_147_483_647;
/** Batches sent for one add or remove when another writer changed the set in between (each is conditional). */
const CONFLICT_ATTEMPTS = 5;

/**
 * A TXT value as Route 53 wants it in a change: each character-string (255 bytes at most) in double
 * quotes, `"` and `\` escaped with a backslash (`"a \"b\""`). Pure.
 */
export function quoteTxt(value: string): string {
  return txtStrings(value)
    .map((s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`)
    .join(' ');
}

/**
 * A TXT value as Route 53 stores and lists it (quoted strings, `\"`, `\\`, `\ddd` octal escapes; an
 * unquoted value is split at spaces) as the one string its character-strings make; undefined when it
 * is malformed (an unclosed quote, a trailing backslash). Pure.
 */
export function unquoteTxt(stored: string): string | undefined {
  const s = stored.trim();
  let out = '';
  let i = 0;
  while (i < s.length) {
    if (s[i] === ' ') {
      i++;
      continue;
    }
    const quoted = s[i] === '"';
    if (quoted) i++;
    for (;;) {
      if (i >= s.length) {
        if (quoted) return undefined;
        break;
      }
      const c = s[i];
      if (quoted && c === '"') {
        i++;
        break;
      }
      if (!quoted && c === ' ') break;
      if (c === '\\') {
        const octal = /^[0-7]{3}/.exec(s.slice(i + 1));
        if (octal) {
          out += String.fromCharCode(parseInt(octal[0], 8));
          i += 4;
          continue;
        }
        if (i + 1 >= s.length) return undefined;
        out += s[i + 1];
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * The plain TXT set of `name` among the listed sets, in Route 53's spelling; undefined when there is
 * none. Throws an Error for a set of `name` that must not be touched: an alias, a routing policy
 * (SetIdentifier) or a health check. Pure.
 */
export function txtSetOf(name: string, listed: readonly ResourceRecordSet[]): StoredSet | undefined {
  let found: StoredSet | undefined;
  for (const s of listed) {
    if (!sameName(s.Name ?? '', name) || s.Type !== 'TXT') continue;
    const what = `${name} TXT`;
    if (s.AliasTarget) throw new Error(`${what} is an alias record; only plain record sets are managed`);
    if (s.SetIdentifier !== undefined) throw new Error(`${what} has a routing policy (set identifier '${s.SetIdentifier}'); only plain record sets are managed`);
    if (s.HealthCheckId !== undefined) throw new Error(`${what} is tied to health check ${s.HealthCheckId}; only plain record sets are managed`);
    if (found) throw new Error(`${what} is listed twice`);
    found = { values: (s.ResourceRecords ?? []).map((r) => r.Value ?? ''), ttl: s.TTL ?? 0 };
  }
  return found;
}

/**
 * The conditional batch that turns `old` (as stored) into `values` (Route 53's spelling): DELETE
 * the exact old set, then CREATE the new one. Route 53 applies both or neither, and refuses the
 * DELETE when the set changed since it was read. Pure.
 */
export function txtChanges(name: string, old: StoredSet | undefined, values: readonly string[], ttl: number): Change[] {
  const set = (v: readonly string[], t: number): ResourceRecordSet => ({ Name: fqdn(name), Type: 'TXT', TTL: t, ResourceRecords: v.map((Value) => ({ Value })) });
  const changes: Change[] = [];
  if (old) changes.push({ Action: 'DELETE', ResourceRecordSet: set(old.values, old.ttl) });
  if (values.length > 0) changes.push({ Action: 'CREATE', ResourceRecordSet: set(values, ttl) });
  return changes;
}

/**
 * DNS-01 TXT values in one Route 53 hosted zone. Each add or remove reads the TXT set and sends a
 * conditional batch (DELETE the set as read, CREATE it with the value added or removed), read again
 * and retried when another writer changed the set in between; then waits until the change is INSYNC.
 * Calls for one name from this object run one after another.
 */
export class Route53TxtRecords implements TxtRecords {
  readonly id: string;
  private readonly api: Route53Api;
  private readonly queue = new KeyedQueue();

  constructor(settings: Route53Settings) {
    const resolved = resolveSettings(settings);
    this.id = resolved.id;
    this.api = new Route53Api(resolved);
  }

  async add(name: string, value: string, ttl: number): Promise<void> {
    const n = this.check(name, 'add', value);
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) throw new ProviderError('config', `route53 add ${n} TXT: ttl must be an integer 0..${MAX_TTL} (got ${ttl})`);
    return this.queue.run(n, () =>
      this.edit(n, 'add', (now) => (now.includes(value) ? undefined : (stored) => ({ values: [...(stored?.values ?? []), quoteTxt(value)], ttl }))),
    );
  }

  async remove(name: string, value: string): Promise<void> {
    const n = this.check(name, 'remove', value);
    return this.queue.run(n, () =>
      this.edit(n, 'remove', (now) =>
        now.includes(value) ? (stored) => ({ values: (stored?.values ?? []).filter((v) => unquoteTxt(v) !== value), ttl: stored?.ttl ?? 0 }) : undefined,
      ),
    );
  }

  close(): void {
    this.api.close();
  }

  private check(name: string, what: string, value: string): string {
    const n = typeof name === 'string' ? normalName(name) : '';
    if (!n || n.length > 253) throw new ProviderError('config', `route53 ${what}: name must be a fully qualified domain name (got '${String(name)}')`);
    const problem = txtValueProblem(value);
    if (problem) throw new ProviderError('config', `route53 ${what} ${n} TXT: ${problem}`);
    return n;
  }

  /**
   * Reads the set; `plan` sees its values (unquoted) and returns how to build the new set from the
   * stored one, or undefined when nothing is to change. Retries a batch refused as a conflict.
   */
  private async edit(n: string, what: 'add' | 'remove', plan: (values: string[]) => ((stored: StoredSet | undefined) => StoredSet) | undefined): Promise<void> {
    const subject = `${n} TXT`;
    for (let attempt = 1; ; attempt++) {
      const stored = await this.read(n);
      const build = plan((stored?.values ?? []).map((v) => unquoteTxt(v) ?? v));
      if (!build) return;
      const next = build(stored);
      let change: { id: string; status: string | undefined };
      try {
        change = await this.api.change(subject, txtChanges(n, stored, next.values, next.ttl));
      } catch (e) {
        if (e instanceof ProviderError && e.kind === 'conflict' && attempt < CONFLICT_ATTEMPTS) continue;
        if (e instanceof ProviderError && e.kind === 'conflict') {
          throw new ProviderError('conflict', oneLine(`route53 ${what} ${subject}: the set kept changing under ${CONFLICT_ATTEMPTS} attempts: ${e.message}`, this.api.secrets));
        }
        throw e;
      }
      await this.api.waitInSync(subject, change.id, change.status);
      return;
    }
  }

  private async read(n: string): Promise<StoredSet | undefined> {
    const listed = await this.api.listSetsOf(n, 'TXT');
    try {
      return txtSetOf(n, listed);
    } catch (e) {
      throw new ProviderError('config', oneLine(`route53 zone ${this.api.settings.hostedZoneId}: ${(e as Error).message}`, this.api.secrets));
    }
  }
}
