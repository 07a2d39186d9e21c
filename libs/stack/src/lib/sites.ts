// Vita's two roles, each on its own host: the data warehouse (MariaDB primary, repl-admin) and a
// content node (its MariaDB replica, api ×N, web ×N, lb). A host is any address this process can
// start processes for: a network namespace (`netns`) or this machine itself.
import { BindServer } from '@vita/bind';
import { configureReplica, MariaServer, waitForReplicaCatchUp } from '@vita/mariadb';
import { readHosts } from '@vita/sites';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dnsEnv } from './dns';
import { dbEnv, ensureMariadb, loadSampleIfEmpty, migrate, provisionPrimary, registerNode, replAdminEnv, Say, ServiceSet, stopLeftovers, timed, USERS } from './parts';
import { Secrets } from './secrets';
import { HttpFetch, Service } from './service';

/** A host a role runs on. */
export interface SiteHost {
  name: string;
  /** The address its servers listen on and other hosts reach it at. */
  address: string;
  /** Its network namespace (`ip netns exec`, root only); none: this process's own. */
  netns?: string;
  /** A request made from inside the host (health checks, the sample upload). */
  fetch: HttpFetch;
}

/** What every role is given. */
export interface RoleContext {
  /** Workspace root (holds dist/ and tools/). */
  root: string;
  /** This role's data and logs: `<home>/data`, `<home>/logs`. */
  home: string;
  /** Generated once for the whole site (secrets.ts) and handed to every role through the environment. */
  secrets: Secrets;
  say: Say;
  /** false: fast, crash-unsafe MariaDB settings (tests). Default true. */
  durable?: boolean;
  /**
   * Every link between hosts over verified TLS: the site CA's folder (`npm run ca`), holding ca.crt and
   * each host's `<host name>.crt`/`.key` (the host's address in its subjectAltName). Unset: plaintext.
   */
  tlsDir?: string;
}

/** A host's certificate files in the site CA's folder. */
export const hostTls = (dir: string, host: string) => ({ ca: join(dir, 'ca.crt'), cert: join(dir, `${host}.crt`), key: join(dir, `${host}.key`) });

/** A content node's replica as the warehouse's repl-admin watches it. */
export interface WatchedReplica {
  name: string;
  node: string;
  address: string;
  port: number;
}

export interface WarehouseOptions extends RoleContext {
  host: SiteHost;
  /** Default 3306. */
  mariadbPort?: number;
  /** Default 3200. */
  replAdminPort?: number;
  /** Content nodes' replicas to watch from the start (others are learned from the topology as they register). */
  replicas: WatchedReplica[];
  /** Host pattern the api's and repl-admin's accounts admit: the nodes' addresses (e.g. the segment's subnet, `10.77.0.%`), never '%'. */
  userHost: string;
  /** How often repl-admin reads the topology (default 5000 ms). */
  sitesIntervalMs?: number;
  /** The site's secrets file, handed (in part) to a joining node; with `tlsDir` (the CA), repl-admin serves HTTPS and the join endpoints. */
  secretsFile?: string;
}

export interface RunningWarehouse {
  host: SiteHost;
  primary: MariaServer;
  replAdmin: Service;
  stop(): Promise<void>;
}

const dirs = (home: string) => {
  const data = join(home, 'data');
  const logs = join(home, 'logs');
  mkdirSync(data, { recursive: true, mode: 0o700 });
  mkdirSync(logs, { recursive: true });
  return { data, logs };
};

/** `name=host:port@node,…` for repl-admin: the primary first. Pure. */
export function replServers(primary: { address: string; port: number }, replicas: WatchedReplica[]): string {
  return [`primary=${primary.address}:${primary.port}`, ...replicas.map((r) => `${r.name}=${r.address}:${r.port}@${r.node}`)].join(',');
}

/** The data warehouse: the primary bound to the host's address, its accounts and schema, and repl-admin watching it and every node's replica. */
export async function startWarehouse(o: WarehouseOptions): Promise<RunningWarehouse> {
  const { host, say } = o;
  ensureMariadb(say);
  const { data, logs } = dirs(o.home);
  await stopLeftovers(data, say);
  const port = o.mariadbPort ?? 3306;
  const tls = o.tlsDir ? hostTls(o.tlsDir, host.name) : undefined;
  const primary = await MariaServer.create({
    name: 'primary',
    serverId: 1,
    role: 'primary',
    port,
    dataDir: join(data, 'primary'),
    logFile: join(logs, 'primary.log'),
    bindAddress: host.address,
    netns: host.netns,
    durable: o.durable,
    ...(tls ? { tls: { ...tls, requireSecureTransport: true } } : {}),
  });
  const services = new ServiceSet(o.root, logs, say, { host: host.address, netns: host.netns, fetch: host.fetch }, `${host.name}: `);
  const stop = async () => {
    await services.stop();
    await primary.stop();
  };
  try {
    await timed(say, `${host.name}: MariaDB primary on ${host.address}:${port}`, () => primary.start());
    await timed(say, `${host.name}: database users set up`, () => provisionPrimary(o.root, primary, o.secrets, { userHost: o.userHost, replAdmin: true, requireSsl: tls !== undefined }));
    await timed(say, `${host.name}: schema migrated on the primary`, () => migrate(o.root, o.secrets, `${host.address}:${port}`, host.netns, tls?.ca));
    const replAdminPort = o.replAdminPort ?? 3200;
    // Across hosts repl-admin is reached over HTTPS; with the site CA at hand it also lets content nodes join.
    const joining: Record<string, string> =
      tls && o.tlsDir && o.secretsFile
        ? { REPL_HTTPS_CERT: tls.cert, REPL_HTTPS_KEY: tls.key, REPL_JOIN_SECRET: o.secrets.REPL_JOIN_SECRET, REPL_CA_DIR: o.tlsDir, REPL_SITE_SECRETS_FILE: o.secretsFile, REPL_USER_HOST: o.userHost }
        : {};
    const replAdmin = services.add(
      'repl-admin',
      replAdminPort,
      {
        HOST: host.address,
        PORT: String(replAdminPort),
        ...replAdminEnv(o.secrets, replServers({ address: host.address, port }, o.replicas), join(logs, 'repl-admin-audit.jsonl'), tls?.ca),
        ...joining,
        ...(o.sitesIntervalMs !== undefined ? { REPL_SITES_INTERVAL_MS: String(o.sitesIntervalMs) } : {}),
      },
      `${joining['REPL_HTTPS_CERT'] ? 'https' : 'http'}://${host.address}:${replAdminPort}`,
    );
    await timed(say, `${host.name}: repl-admin on ${host.address}:${replAdminPort}`, () => replAdmin.start());
    return { host, primary, replAdmin, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** Another content node, as this one sees it. */
export interface PeerNode {
  name: string;
  address: string;
  /** Its replica's port (default 3306). */
  replicaPort?: number;
}

export interface ContentNodeOptions extends RoleContext, Pick<NodeServicesOptions, 'apiPorts' | 'webPorts' | 'lbPort' | 'lbAdminPort' | 'lbPeerPort' | 'peersIntervalMs' | 'apiEnv'> {
  host: SiteHost;
  /** Unique in the site (the warehouse's primary is 1). */
  serverId: number;
  /** The warehouse's primary (replicated from; writes go there). */
  primary: MariaServer;
  /** The other content nodes, in order of preference: their replicas are read after the local one, their lbs are this lb's backups. */
  peers: PeerNode[];
  replicaPort?: number;
}

export interface RunningContentNode {
  host: SiteHost;
  replica: MariaServer;
  apis: Service[];
  webs: Service[];
  lb: Service;
  stop(): Promise<void>;
}

export { readHosts } from '@vita/sites';

/** The secrets a content node's services use (what a joining node is given: see repl-admin's NODE_SECRETS). */
export type NodeSecrets = Pick<Secrets, 'DB_READ_PASSWORD' | 'DB_WRITE_PASSWORD' | 'VITA_ADMIN_TOKEN' | 'LB_ADMIN_TOKEN'>;

/** A content node's replica (not yet replicating), with the host's certificate when the site uses TLS. */
export function nodeReplica(o: { host: SiteHost; serverId: number; data: string; logs: string; port: number; durable?: boolean; tls?: { ca: string; cert: string; key: string } }): Promise<MariaServer> {
  return MariaServer.create({
    name: 'replica',
    serverId: o.serverId,
    role: 'replica',
    port: o.port,
    dataDir: join(o.data, 'replica'),
    logFile: join(o.logs, 'replica.log'),
    bindAddress: o.host.address,
    netns: o.host.netns,
    durable: o.durable,
    ...(o.tls ? { tls: { ...o.tls, requireSecureTransport: true } } : {}),
  });
}

export interface NodeServicesOptions {
  root: string;
  logs: string;
  say: Say;
  host: SiteHost;
  secrets: NodeSecrets;
  /** The warehouse's primary, `host:port` (writes). */
  writeHost: string;
  /** DB_READ_HOSTS (see readHosts). */
  readHosts: string;
  tls?: { ca: string; cert: string; key: string };
  apiPorts?: number[];
  webPorts?: number[];
  lbPort?: number;
  lbAdminPort?: number;
  /** lb's TLS listener for other nodes' lbs (default 8443; needs `tls`): this node's `peerUrl` in the topology. */
  lbPeerPort?: number;
  /** How often lb reads the topology for its backups (default 1000 ms). */
  peersIntervalMs?: number;
  /** Extra api settings (e.g. DB_TIMEOUT_MS). */
  apiEnv?: Record<string, string>;
  /** Runs once the apis answer, before web starts (the first node loads the sample résumé). */
  afterApis?: (apiUrls: string[]) => Promise<void>;
}

export interface NodeServices {
  apis: Service[];
  webs: Service[];
  lb: Service;
  /** lb's TLS listener for other nodes (its `peerUrl`), when the site uses TLS. */
  peerUrl?: string;
  stop(): Promise<void>;
}

/** A content node's api ×N, web ×N and lb (its backups: the other nodes' lbs, from the topology). */
export async function startNodeServices(o: NodeServicesOptions): Promise<NodeServices> {
  const { host, say, secrets, tls } = o;
  const services = new ServiceSet(o.root, o.logs, say, { host: host.address, netns: host.netns, fetch: host.fetch }, `${host.name}: `);
  try {
    const apis = (o.apiPorts ?? [3100, 3101]).map((port) =>
      services.add('api', port, {
        ...dbEnv(secrets as Secrets, o.writeHost, tls?.ca),
        ...o.apiEnv,
        HOST: host.address,
        PORT: String(port),
        DB_READ_HOSTS: o.readHosts,
        VITA_ADMIN_TOKEN: secrets.VITA_ADMIN_TOKEN,
      }),
    );
    await timed(say, `${host.name}: api ×${apis.length} ready`, () => Promise.all(apis.map((api) => api.start())));
    const apiUrls = apis.map((api) => api.url);
    await o.afterApis?.(apiUrls);
    const webs = (o.webPorts ?? [3000, 3001]).map((port) => services.add('web', port, { HOST: host.address, PORT: String(port), API_URLS: apiUrls.join(',') }));
    await timed(say, `${host.name}: web ×${webs.length} ready`, () => Promise.all(webs.map((web) => web.start())));
    const lbPort = o.lbPort ?? 8080;
    const adminPort = o.lbAdminPort ?? 8404;
    const peerPort = o.lbPeerPort ?? 8443;
    // Other nodes' lbs are this lb's backups, learned from the topology through the local api (never a static list).
    const peerListener: Record<string, string> = tls ? { LB_PEER_LISTEN: `${host.address}:${peerPort}`, LB_PEER_TLS_CERT: tls.cert, LB_PEER_TLS_KEY: tls.key, LB_BACKUP_CA: tls.ca } : {};
    const lb = services.add(
      'lb',
      lbPort,
      {
        LB_LISTEN: `${host.address}:${lbPort}`,
        LB_ADMIN_LISTEN: `127.0.0.1:${adminPort}`,
        LB_BACKENDS: webs.map((w, i) => `web${i + 1}=${w.url}`).join(','),
        LB_NODE_NAME: host.name,
        LB_PEERS_URL: `${apiUrls[0]}/api/v1/sites/peers`,
        LB_PEERS_INTERVAL_MS: String(o.peersIntervalMs ?? 1000),
        ...peerListener,
        LB_ADMIN_TOKEN: secrets.LB_ADMIN_TOKEN,
        LB_WORKERS: '1',
      },
      `http://127.0.0.1:${adminPort}`,
    );
    await timed(say, `${host.name}: lb on ${host.address}:${lbPort}`, () => lb.start());
    return { apis, webs, lb, ...(tls ? { peerUrl: `https://${host.address}:${peerPort}` } : {}), stop: () => services.stop() };
  } catch (err) {
    await services.stop().catch(() => undefined);
    throw err;
  }
}

/** A content node: its replica of the warehouse's primary, api ×N, web ×N and lb, all in the host's namespace. */
export async function startContentNode(o: ContentNodeOptions): Promise<RunningContentNode> {
  const { host, say, primary, secrets } = o;
  ensureMariadb(say);
  const { data, logs } = dirs(o.home);
  await stopLeftovers(data, say);
  const replicaPort = o.replicaPort ?? 3306;
  const tls = o.tlsDir ? hostTls(o.tlsDir, host.name) : undefined;
  const replica = await nodeReplica({ host, serverId: o.serverId, data, logs, port: replicaPort, durable: o.durable, tls });
  let services: NodeServices | undefined;
  const stop = async () => {
    await services?.stop();
    await replica.stop();
  };
  try {
    await timed(say, `${host.name}: MariaDB replica on ${host.address}:${replicaPort}`, () => replica.start());
    await timed(say, `${host.name}: replica replicating from ${primary.host}:${primary.port}`, async () => {
      await configureReplica(replica, primary, { user: USERS.replication, password: secrets.DB_REPL_PASSWORD, ...(tls ? { tls: { ca: tls.ca } } : {}) });
      await waitForReplicaCatchUp(replica, primary, 30_000);
    });
    const writeHost = `${primary.host}:${primary.port}`;
    services = await startNodeServices({
      root: o.root,
      logs,
      say,
      host,
      secrets,
      writeHost,
      readHosts: readHosts(`${host.address}:${replicaPort}`, o.peers.map((p) => `${p.address}:${p.replicaPort ?? 3306}`), writeHost),
      tls,
      apiPorts: o.apiPorts,
      webPorts: o.webPorts,
      lbPort: o.lbPort,
      lbAdminPort: o.lbAdminPort,
      lbPeerPort: o.lbPeerPort,
      peersIntervalMs: o.peersIntervalMs,
      apiEnv: o.apiEnv,
      afterApis: (apiUrls) => loadSampleIfEmpty(o.root, host.fetch, apiUrls, secrets.VITA_ADMIN_TOKEN, say),
    });
    const { apis, webs, lb, peerUrl } = services;
    if (peerUrl) {
      await timed(say, `${host.name}: registered in the topology`, () =>
        registerNode(host.fetch, apis[0].url, secrets.VITA_ADMIN_TOKEN, host.name, { address: host.address, dbPort: replicaPort, peerUrl, state: 'active' }),
      );
    }
    return { host, replica, apis, webs, lb, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** A site's public name and the authoritative server it is published on. */
export interface SiteDnsOptions extends Pick<RoleContext, 'root' | 'say' | 'secrets'> {
  /** The zone BIND serves, e.g. vita.test. */
  zone: string;
  /** The name visitors resolve, inside `zone` (e.g. resume.vita.test). */
  name: string;
  /** The host BIND runs on (in its namespace), listening on the host's address. */
  bindHost: SiteHost;
  /** Default 53. */
  bindPort?: number;
  /** The run's folder: BIND's working dir and each controller's state, audit log and log go under `<home>/<host name>/`. */
  home: string;
  /** One dns controller on each of these hosts (its vantage: the host's name); each is the others' peer. */
  controllers: SiteHost[];
  /** The content nodes published: one A record each while healthy. */
  nodes: Array<{ node: string; address: string }>;
  /** The port the nodes' lbs serve the page on (what the controllers probe). */
  probePort: number;
  /** The controllers' port (default 3300). */
  controllerPort?: number;
  /** More controller settings, the same on every one (DNS_MIN_HOLD_MS, DNS_TTL, faster probes in a test). */
  env?: Record<string, string>;
}

export interface RunningSiteDns {
  name: string;
  zone: string;
  bind: BindServer;
  /** Each controller by its host's name. */
  controllers: Record<string, Service>;
  /** A controller's audit log (JSON lines of every drain and undrain). */
  auditLog(host: string): string;
  stop(): Promise<void>;
}

/** Where a host's dns controller keeps its files. */
const controllerFiles = (home: string, host: string) => {
  const { data, logs } = dirs(join(home, host));
  return { data, logs, stateFile: join(data, 'dns-state.json'), auditLog: join(logs, 'dns-audit.jsonl') };
};

/**
 * Health-checked DNS for the site: BIND (one primary zone, updated over RFC 2136 with a TSIG key)
 * inside `bindHost`'s namespace on its address, serving every node from the start, and a dns
 * controller on each of `controllers`, each probing every node and sharing its view with the others,
 * publishing to that BIND. The key file is BIND's own (mode 600, root's): every controller reads it
 * from the shared filesystem. stop() stops the controllers, then BIND, and removes BIND's folder.
 */
export async function startSiteDns(o: SiteDnsOptions): Promise<RunningSiteDns> {
  const { say } = o;
  const bindPort = o.bindPort ?? 53;
  const port = o.controllerPort ?? 3300;
  const relative = o.name.endsWith(`.${o.zone}`) ? o.name.slice(0, -(o.zone.length + 1)) : undefined;
  if (relative === undefined) throw new Error(`the DNS name ${o.name} is not inside the zone ${o.zone}`);
  const bind = await timed(say, `${o.bindHost.name}: BIND serving ${o.zone} on ${o.bindHost.address}:${bindPort}`, () =>
    BindServer.start({
      zone: o.zone,
      address: o.bindHost.address,
      port: bindPort,
      records: o.nodes.map((n) => ({ name: relative, type: 'A' as const, value: n.address })),
      ...(o.bindHost.netns ? { wrap: ['ip', 'netns', 'exec', o.bindHost.netns] } : {}),
      dir: join(o.home, o.bindHost.name, 'bind'),
    }),
  );
  const sets: ServiceSet[] = [];
  const stop = async () => {
    await Promise.all(sets.map((s) => s.stop()));
    await bind.stop();
  };
  try {
    const url = (h: SiteHost) => `http://${h.address}:${port}`;
    const controllers: Record<string, Service> = {};
    for (const host of o.controllers) {
      const files = controllerFiles(o.home, host.name);
      const set = new ServiceSet(o.root, files.logs, say, { host: host.address, netns: host.netns, fetch: host.fetch }, `${host.name}: `);
      sets.push(set);
      controllers[host.name] = set.add(
        'dns',
        port,
        dnsEnv({
          name: o.name,
          nodes: o.nodes,
          probePort: o.probePort,
          vantage: host.name,
          host: host.address,
          port,
          bind: { address: o.bindHost.address, port: bindPort, zone: o.zone, keyFile: bind.keyFile },
          peers: o.controllers.filter((p) => p !== host).map(url),
          peerToken: o.secrets.DNS_PEER_TOKEN,
          adminToken: o.secrets.DNS_ADMIN_TOKEN,
          stateFile: files.stateFile,
          auditLog: files.auditLog,
          extra: o.env,
        }),
      );
    }
    await timed(say, `dns controllers on ${o.controllers.map((h) => h.name).join(', ')} (:${port}) publishing ${o.name}`, () => Promise.all(Object.values(controllers).map((c) => c.start())));
    return { name: o.name, zone: o.zone, bind, controllers, auditLog: (host) => controllerFiles(o.home, host).auditLog, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** Pure: a resolv.conf sending every query to `nameserver` (one try of 1 s each, then the next attempt). */
export function resolvConf(nameserver: string): string {
  return `nameserver ${nameserver}\noptions timeout:1 attempts:2\n`;
}

/**
 * Makes the processes started in network namespace `netns` from now on resolve through `nameserver`:
 * `ip netns exec` bind-mounts `/etc/netns/<netns>/resolv.conf` over /etc/resolv.conf. The folder is
 * the namespace's own (NetnsTopology creates it and removes it with the namespace).
 */
export function resolveThrough(netns: string, nameserver: string): string {
  const dir = join('/etc/netns', netns);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'resolv.conf');
  writeFileSync(file, resolvConf(nameserver));
  return file;
}
