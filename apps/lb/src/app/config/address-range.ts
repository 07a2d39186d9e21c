import { BlockList, isIP } from 'node:net';

export interface AddressRange {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** `10.0.0.0/8`, `127.0.0.1`, `::1`, `fd00::/8`; null when it is none of these. */
export function parseAddressRange(value: string): AddressRange | null {
  const [address, bits, extra] = value.trim().split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  return prefix >= 0 && prefix <= max ? { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' } : null;
}

/** `::ffff:10.1.2.3` (an IPv4 peer on a dual-stack socket) as `10.1.2.3`. */
export const plainAddress = (address: string): string => (address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address);

/** Membership test over the configured trusted proxies. */
export function addressMatcher(ranges: readonly string[]): (address: string) => boolean {
  if (ranges.length === 0) return () => false;
  const list = new BlockList();
  for (const r of ranges.map(parseAddressRange)) if (r) list.addSubnet(r.address, r.prefix, r.family);
  return (address) => {
    const plain = plainAddress(address);
    return list.check(plain, isIP(plain) === 6 ? 'ipv6' : 'ipv4');
  };
}
