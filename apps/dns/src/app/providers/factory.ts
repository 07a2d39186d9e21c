import { parseTsigKeyFile, Rfc2136Provider, Route53Provider, type DnsProvider } from '@vita/dns-providers';
import type { DnsConfig } from '../config/config';

/**
 * The providers the settings name, built once at start: a key file that cannot be read or parsed
 * stops the process with one line naming the file (and line), never the secret.
 */
export function buildProviders(config: DnsConfig, readFile: (variable: string, file: string) => string): DnsProvider[] {
  const timeoutMs = config.env.DNS_PROVIDER_TIMEOUT_MS;
  return config.providers.map((p): DnsProvider => {
    if (p.kind === 'rfc2136') {
      const key = parseTsigKeyFile(readFile('DNS_TSIG_KEY_FILE', p.keyFile), p.keyFile, p.keyName);
      return new Rfc2136Provider({ server: p.server, zone: p.zone, key, timeoutMs });
    }
    return new Route53Provider({ hostedZoneId: p.hostedZoneId, region: p.region, endpoint: p.endpoint, timeoutMs });
  });
}
