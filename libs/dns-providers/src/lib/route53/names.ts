import { isIPv4, isIPv6 } from 'node:net';
import { RecordType } from '../provider';

/** `name` as the controller means it: lower case, no trailing dot (DNS names compare case-insensitively). */
export function normalName(name: string): string {
  return name.trim().replace(/\.$/, '').toLowerCase();
}

/** The fully qualified form Route 53 expects in requests: `www.example.com.`. */
export function fqdn(name: string): string {
  return `${normalName(name)}.`;
}

/**
 * A name as ListResourceRecordSets returns it (`\052.example.com.`: octal escapes, trailing dot)
 * in the controller's form (`*.example.com`).
 */
export function decodeRoute53Name(name: string): string {
  return normalName(name.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))));
}

/** Whether a name Route 53 returned is the controller's `name`. */
export function sameName(route53Name: string, name: string): boolean {
  return decodeRoute53Name(route53Name) === normalName(name);
}

/** One address in canonical text: IPv4 as given (validated), IPv6 in RFC 5952 form; undefined when invalid for `type`. */
export function canonicalValue(type: RecordType, value: string): string | undefined {
  const v = value.trim();
  if (type === 'A') return isIPv4(v) ? v : undefined;
  if (!isIPv6(v)) return undefined;
  return new URL(`http://[${v}]`).hostname.slice(1, -1);
}

/** Canonical, de-duplicated and sorted; throws naming the first value that is not an address of `type`. */
export function canonicalValues(type: RecordType, values: readonly string[]): string[] {
  const out = new Set<string>();
  for (const value of values) {
    const c = canonicalValue(type, value);
    if (c === undefined) throw new Error(`'${value}' is not an ${type === 'A' ? 'IPv4' : 'IPv6'} address`);
    out.add(c);
  }
  return [...out].sort();
}
