import { checkNetnsSupport, HostRequestInit, initCa, issueHostCert, NetnsHost, NetnsTopology } from '@vita/sites';
import { buildApps, ensureSecrets, resolveThrough, RunningContentNode, RunningSiteDns, RunningWarehouse, Secrets, startContentNode, startSiteDns, startWarehouse, timed } from '@vita/stack';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The test site: a data warehouse, two content nodes and a client, each its own network namespace. */
export const NODES = ['node-a', 'node-b'] as const;
export type NodeName = (typeof NODES)[number];
/** A host with nothing running: the node a test joins to the site with the join command. */
export const JOINER = 'node-c';
export const PORTS = { mariadb: 3306, replAdmin: 3200, api: [3100, 3101], web: [3000, 3001], lb: 8080, lbAdmin: 8404, lbPeer: 8443, dns: 53, dnsController: 3300 } as const;
/** The site's public name: BIND on the warehouse serves the zone; a dns controller on the warehouse and on each node publishes one A record per healthy node. */
export const DNS = { zone: 'vita.test', name: 'resume.vita.test' } as const;
/** The hosts a dns controller runs on (each one's vantage point is its host name). */
export const DNS_VANTAGES = ['warehouse', ...NODES] as const;

export interface RunningSite {
  topology: NetnsTopology;
  warehouse: RunningWarehouse;
  nodes: Record<NodeName, RunningContentNode>;
  client: NetnsHost;
  /** BIND on the warehouse and the dns controllers; the client resolves through that BIND (its /etc/netns/<ns>/resolv.conf). */
  dns: RunningSiteDns;
  /** Where the run's data, logs, secrets and certificates (`<home>/tls`) are (removed by stop()). */
  home: string;
  secrets: Secrets;
  stop(): Promise<void>;
}

export interface SiteOptions {
  root: string;
  say: (line: string) => void;
  /** Build the bundles first. */
  build: boolean;
  /** false: fast, crash-unsafe MariaDB settings (tests). */
  durable?: boolean;
  /** Extra api settings for every node. */
  apiEnv?: Record<string, string>;
  /** Extra settings for every dns controller (e.g. DNS_MIN_HOLD_MS). */
  dnsEnv?: Record<string, string>;
}

/**
 * Builds the namespaces, then starts the warehouse, node-a and node-b on them, then BIND on the
 * warehouse and a dns controller on the warehouse and on each node; the client host resolves names
 * through that BIND. On any failure, and
 * in stop(), every process is stopped and every namespace, link and file of the run is removed.
 */
export async function startSite(o: SiteOptions): Promise<RunningSite> {
  checkNetnsSupport();
  if (o.build) await timed(o.say, 'services built', () => buildApps(o.root, ['api', 'web', 'lb', 'repl-admin', 'dns']));
  const topology = await timed(o.say, 'network namespaces built', () => NetnsTopology.create({ hosts: ['warehouse', ...NODES, JOINER, 'client'] }));
  const home = topology.scratchDir('home');
  const running: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    for (const r of running.reverse()) await r.stop().catch((err: unknown) => o.say(`stop failed: ${err instanceof Error ? err.message : String(err)}`));
    await topology.destroy();
  };
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    // Before anything runs on the client: every process started there resolves through the warehouse's BIND.
    resolveThrough(topology.host('client').netns, topology.host('warehouse').address);
    const secrets = ensureSecrets(join(home, 'secrets.env'));
    // The site CA and each host's certificate for its address: every link between hosts is verified TLS.
    const tlsDir = join(home, 'tls');
    await timed(o.say, 'site CA and host certificates made', async () => {
      await initCa({ dir: tlsDir, name: 'Vita test site CA', days: 2 });
      for (const name of ['warehouse', ...NODES]) await issueHostCert({ dir: tlsDir, name, ips: [topology.host(name).address], days: 2 });
    });
    const ctx = { root: o.root, secrets, say: o.say, durable: o.durable, tlsDir };
    const netnsWarehouse = topology.host('warehouse');
    // repl-admin answers over HTTPS, verified against the site CA.
    const w = { ...netnsWarehouse, fetch: (url: string, init?: HostRequestInit) => netnsWarehouse.fetch(url, { ...init, caFile: join(tlsDir, 'ca.crt') }) };
    const warehouse = await startWarehouse({
      ...ctx,
      home: join(home, 'warehouse'),
      host: w,
      mariadbPort: PORTS.mariadb,
      replAdminPort: PORTS.replAdmin,
      // No static list: repl-admin watches each node's replica once the node registers in the topology.
      replicas: [],
      sitesIntervalMs: 1000,
      userHost: `${topology.plan.subnet}.%`,
      secretsFile: join(home, 'secrets.env'),
    });
    running.push(warehouse);
    const nodes = {} as Record<NodeName, RunningContentNode>;
    for (const [i, name] of NODES.entries()) {
      nodes[name] = await startContentNode({
        ...ctx,
        home: join(home, name),
        host: topology.host(name),
        serverId: 11 + i,
        primary: warehouse.primary,
        peers: NODES.filter((p) => p !== name).map((p) => ({ name: p, address: topology.host(p).address, replicaPort: PORTS.mariadb })),
        replicaPort: PORTS.mariadb,
        apiPorts: [...PORTS.api],
        webPorts: [...PORTS.web],
        lbPort: PORTS.lb,
        lbAdminPort: PORTS.lbAdmin,
        lbPeerPort: PORTS.lbPeer,
        apiEnv: o.apiEnv,
      });
      running.push(nodes[name]);
    }
    const dns = await startSiteDns({
      root: o.root,
      say: o.say,
      secrets,
      zone: DNS.zone,
      name: DNS.name,
      bindHost: netnsWarehouse,
      bindPort: PORTS.dns,
      home,
      controllers: DNS_VANTAGES.map((h) => topology.host(h)),
      nodes: NODES.map((n) => ({ node: n, address: topology.host(n).address })),
      probePort: PORTS.lb,
      controllerPort: PORTS.dnsController,
      env: o.dnsEnv,
    });
    running.push(dns);
    return { topology, warehouse, nodes, client: topology.host('client'), dns, home, secrets, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
