/**
 * TXT records for ACME DNS-01 (RFC 8555 §8.4): one value per pending challenge at
 * `_acme-challenge.<name>`. Values are added and removed one at a time, never by replacing the whole
 * set, so orders running at once (two authorizations for `example.com` and `*.example.com`, or
 * several nodes ordering the same names) never take down each other's values.
 */
export interface TxtRecords {
  /** A short label for messages (`rfc2136`, `route53`). */
  readonly id: string;
  /**
   * Makes `value` one of the TXT values served at `fqdn` (other values stay), with TTL `ttl`.
   * Resolves once the change is applied (Route 53: INSYNC); a value already there is left as it is.
   * Throws a ProviderError with one line, never a secret.
   */
  add(fqdn: string, value: string, ttl: number): Promise<void>;
  /** Removes `value` from the TXT values at `fqdn` (the others stay; a value not there is no error). */
  remove(fqdn: string, value: string): Promise<void>;
  /** Releases sockets and timers. */
  close(): void;
}

/** The longest value accepted: 16 character-strings of 255 bytes (a DNS-01 value is 43). */
export const MAX_TXT_VALUE = 16 * 255;

/**
 * Why `value` cannot be a TXT value here, or undefined when it can: printable ASCII (space to `~`),
 * at most MAX_TXT_VALUE characters. Pure.
 */
export function txtValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `the value must be a string (got ${typeof value})`;
  if (value.length > MAX_TXT_VALUE) return `the value is ${value.length} characters, more than ${MAX_TXT_VALUE}`;
  if (!/^[\x20-\x7e]*$/.test(value)) return 'the value must be printable ASCII';
  return undefined;
}

/** `value` cut into the character-strings of one TXT record (255 bytes at most each; `''` is one empty string). Pure. */
export function txtStrings(value: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < value.length; i += 255) out.push(value.slice(i, i + 255));
  return out.length ? out : [''];
}

/** Runs calls for the same key one after another (calls for different keys run at once). */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
