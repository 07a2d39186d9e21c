import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { EnvError, loadEnv, parseHostPort, type HostPort } from '@vita/runtime';
import { endpointKey, type Endpoint } from '../model';
import { DnsEnv } from './env';

/** Where the records go; built into providers at start (providers/factory.ts). */
export type ProviderSetting =
  | { kind: 'rfc2136'; server: HostPort; zone: string; keyFile: string; keyName: string | undefined }
  | { kind: 'route53'; hostedZoneId: string; region: string; endpoint: string | undefined };

/** The validated environment and what it names; injectable as ENV (`@Inject(ENV) config: DnsConfig`). */
export interface DnsConfig {
  env: DnsEnv;
  /** DNS_NAME, lower case, without a trailing dot. */
  name: string;
  vantage: string;
  endpoints: Endpoint[];
  nodes: string[];
  /** The other controllers' base URLs (no trailing slash). */
  peers: string[];
  providers: ProviderSetting[];
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Canonical text of an IP address (IPv6 in RFC 5952 form); null when it is not one. */
export function canonicalAddress(text: string): string | null {
  const bare = text.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(bare);
  if (family === 4) return bare;
  if (family === 6 && !bare.includes('%')) return new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  return null;
}

/** Pure: DNS_NODES (`node=address,…`) as endpoints; the error names the entry at fault. */
export function parseNodes(value: string): Endpoint[] {
  const endpoints: Endpoint[] = [];
  const entries = value.split(',').map((e) => e.trim());
  entries.forEach((entry, i) => {
    const where = `DNS_NODES entry ${i + 1} (${JSON.stringify(entry.slice(0, 80))})`;
    const at = entry.indexOf('=');
    if (at < 0) throw new EnvError(`invalid environment: ${where} must be node=address`);
    const node = entry.slice(0, at).trim();
    const address = canonicalAddress(entry.slice(at + 1).trim());
    if (!LABEL.test(node)) throw new EnvError(`invalid environment: ${where}: the node name must be a DNS label (lowercase letters, digits, inner hyphens)`);
    if (address === null) throw new EnvError(`invalid environment: ${where}: the address must be an IPv4 or IPv6 address`);
    const key = endpointKey(node, address);
    if (endpoints.some((e) => e.address === address)) throw new EnvError(`invalid environment: ${where}: ${address} is listed twice`);
    endpoints.push({ key, node, address, type: address.includes(':') ? 'AAAA' : 'A' });
  });
  return endpoints;
}

/** Pure: DNS_PEERS as base URLs; the error names the entry at fault. */
export function parsePeers(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value.split(',').map((raw, i) => {
    const entry = raw.trim();
    let url: URL;
    try {
      url = new URL(entry);
    } catch {
      throw new EnvError(`invalid environment: DNS_PEERS entry ${i + 1} must be an http(s) URL such as https://dns.node-b.example.org:3300`);
    }
    if (!/^https?:$/.test(url.protocol) || url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
      throw new EnvError(`invalid environment: DNS_PEERS entry ${i + 1} must be an http(s) URL with no path, query or credentials`);
    }
    return url.origin;
  });
}

/** Validates the environment and what it names; throws an EnvError with one line naming the problem. */
export function loadConfig(source: Record<string, string | undefined>): DnsConfig {
  const env = loadEnv(DnsEnv, source);
  const name = env.DNS_NAME.toLowerCase().replace(/\.$/, '');
  const endpoints = parseNodes(env.DNS_NODES);
  const peers = parsePeers(env.DNS_PEERS);
  if (new Set(peers).size !== peers.length) throw new EnvError('invalid environment: DNS_PEERS lists a controller twice');
  const vantage = env.DNS_VANTAGE ?? (hostname().toLowerCase().split('.')[0].replace(/[^a-z0-9-]/g, '-') || 'dns');
  const providers: ProviderSetting[] = [];
  if (env.DNS_RFC2136_SERVER) {
    const zone = (env.DNS_RFC2136_ZONE ?? name.slice(name.indexOf('.') + 1)).toLowerCase().replace(/\.$/, '');
    if (name !== zone && !name.endsWith(`.${zone}`)) throw new EnvError(`invalid environment: DNS_NAME ${name} is not inside DNS_RFC2136_ZONE ${zone}`);
    const server = parseHostPort(env.DNS_RFC2136_SERVER);
    providers.push({ kind: 'rfc2136', server: { host: server.host.replace(/^\[(.*)\]$/, '$1'), port: server.port }, zone, keyFile: env.DNS_TSIG_KEY_FILE as string, keyName: env.DNS_TSIG_KEY_NAME });
  }
  if (env.DNS_ROUTE53_ZONE_ID) providers.push({ kind: 'route53', hostedZoneId: env.DNS_ROUTE53_ZONE_ID, region: env.DNS_ROUTE53_REGION, endpoint: env.DNS_ROUTE53_ENDPOINT });
  if (providers.length === 0) throw new EnvError('invalid environment: no DNS provider: set DNS_RFC2136_SERVER (with DNS_TSIG_KEY_FILE) or DNS_ROUTE53_ZONE_ID, or both');
  if (env.DNS_PROBE_TIMEOUT_MS >= env.DNS_PROBE_INTERVAL_MS) throw new EnvError('invalid environment: DNS_PROBE_TIMEOUT_MS must be below DNS_PROBE_INTERVAL_MS');
  return { env, name, vantage, endpoints, nodes: [...new Set(endpoints.map((e) => e.node))], peers, providers };
}
