import { isIP } from 'node:net';
import { BIND_INSTALL_COMMAND, findBindProgram, findNamed, type BindPrograms } from '@vita/bind';

/** What a dns controller is told (apps/dns; the README's "DNS failover" table lists every setting). */
export interface DnsControllerSettings {
  /** The name published, e.g. resume.vita.test. */
  name: string;
  /** Every content node's public address (one A or AAAA record each). */
  nodes: Array<{ node: string; address: string }>;
  /** The port each node's lb serves the page on. */
  probePort: number;
  vantage: string;
  host: string;
  port: number;
  /** The BIND (RFC 2136) it publishes to. */
  bind: { address: string; port: number; zone: string; keyFile: string };
  /** The other controllers' base URLs. */
  peers?: string[];
  peerToken: string;
  adminToken: string;
  stateFile: string;
  auditLog: string;
  /** Anything else (faster probes in a test). */
  extra?: Record<string, string>;
}

/** Pure: a dns controller's environment. */
export function dnsEnv(s: DnsControllerSettings): Record<string, string> {
  const server = s.bind.address.includes(':') ? `[${s.bind.address}]` : s.bind.address;
  return {
    HOST: s.host,
    PORT: String(s.port),
    DNS_NAME: s.name,
    DNS_NODES: s.nodes.map((n) => `${n.node}=${n.address}`).join(','),
    DNS_PROBE_PORT: String(s.probePort),
    DNS_VANTAGE: s.vantage,
    DNS_RFC2136_SERVER: `${server}:${s.bind.port}`,
    DNS_RFC2136_ZONE: s.bind.zone,
    DNS_TSIG_KEY_FILE: s.bind.keyFile,
    DNS_ADMIN_TOKEN: s.adminToken,
    DNS_STATE_FILE: s.stateFile,
    DNS_AUDIT_LOG: s.auditLog,
    ...(s.peers && s.peers.length > 0 ? { DNS_PEERS: s.peers.join(','), DNS_PEER_TOKEN: s.peerToken } : {}),
    ...s.extra,
  };
}

/** The zone a name is published in on the local stack: the name without its first label (resume.vita.test → vita.test). */
export function zoneOf(name: string): string {
  const bare = name.toLowerCase().replace(/\.$/, '');
  const dot = bare.indexOf('.');
  if (dot <= 0 || dot === bare.length - 1) throw new Error(`${name} has no zone to publish it in: give a name such as resume.vita.test`);
  return bare.slice(dot + 1);
}

/** The address a controller on the same machine probes an lb listening on `listenHost` at (a wildcard is reached on 127.0.0.1). */
export function probeAddressOf(listenHost: string): string {
  const host = listenHost.replace(/^\[(.*)\]$/, '$1');
  return host === '' || host === '0.0.0.0' || host === '::' || isIP(host) === 0 ? '127.0.0.1' : host;
}

/**
 * The BIND programs the local stack runs: named (required; BindNotInstalledError when it is missing),
 * nsupdate and dig when present (the stack itself never runs them).
 */
export function localBindPrograms(env: NodeJS.ProcessEnv = process.env): BindPrograms {
  const named = findNamed(env);
  const optional = (program: 'nsupdate' | 'dig'): string => {
    try {
      return findBindProgram(program, env);
    } catch {
      return program;
    }
  };
  return { named, nsupdate: optional('nsupdate'), dig: optional('dig') };
}

/** The one line `npm start` prints when BIND is not installed. */
export const DNS_SKIPPED_LINE = `DNS failover skipped: BIND's named is not installed; to see it too, run \`${BIND_INSTALL_COMMAND}\` (as root), then npm start again`;
