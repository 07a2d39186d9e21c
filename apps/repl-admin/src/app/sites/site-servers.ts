import type { ServerConfig, Servers } from '../config/servers';

/** A content node's replica, as the topology table (`site_nodes`) or a join in progress names it. */
export interface NodeReplica {
  name: string;
  address: string;
  dbPort: number;
}

const key = (host: string, port: number) => `${host.toLowerCase()}:${port}`;

/**
 * The servers to watch: the configured ones, then each node's replica (named after its node) that
 * none of them already is (by name or by address). Pure; the order of `nodes` is kept.
 */
export function serversWithNodes(configured: Servers, nodes: NodeReplica[]): Servers {
  const names = new Set([configured.primary, ...configured.replicas].map((s) => s.name));
  const addresses = new Set([configured.primary, ...configured.replicas].map((s) => key(s.host, s.port)));
  const added: ServerConfig[] = [];
  for (const n of nodes) {
    const at = key(n.address, n.dbPort);
    if (names.has(n.name) || addresses.has(at)) continue;
    names.add(n.name);
    addresses.add(at);
    added.push({ name: n.name, host: n.address, port: n.dbPort, node: n.name, role: 'replica' });
  }
  return { primary: configured.primary, replicas: [...configured.replicas, ...added] };
}
