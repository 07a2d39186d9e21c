import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { NodeSite, SiteConfig, WarehouseSite } from './site-config';
import type { ServiceSpec } from './systemd';

/** The database accounts of a Vita site (one set for the whole topology; replication carries them). */
export const ACCOUNTS = {
  reader: 'vita_reader',
  writer: 'vita_writer',
  migrator: 'vita_migrator',
  replication: 'vita_repl',
  replMonitor: 'repl_monitor',
  replAdmin: 'repl_admin',
} as const;

/**
 * A content node's MariaDB server_id, from its name: the same on every run of every command, and
 * never 1 (the warehouse's primary). 31 bits of SHA-256, so two nodes sharing one is improbable.
 */
export function serverIdOf(name: string): number {
  const id = createHash('sha256').update(name).digest().readUInt32BE(0) & 0x7fffffff;
  return id < 2 ? id + 2 : id;
}

/** Where the programs are on this host. */
export interface Installation {
  /** The folder holding dist/apps/<app>/main.js. */
  root: string;
  /** The node binary. */
  node: string;
  /** mariadbd's command line for this host's server (program first). */
  mariadbd: string[];
}

/** The site's secrets by name (see libs/stack's SECRET_NAMES); each service gets only the ones it uses. */
export type SiteSecrets = Record<string, string>;

/** Files of the host's certificates, under `<home>/tls`. */
export const tlsFiles = (home: string, name: string) => ({
  ca: join(home, 'tls', 'ca.crt'),
  cert: join(home, 'tls', `${name}.crt`),
  key: join(home, 'tls', `${name}.key`),
});

function pick(secrets: SiteSecrets, names: string[], service: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = secrets[name];
    if (!value) throw new Error(`${service} needs the secret ${name}, which the secrets file does not have`);
    out[name] = value;
  }
  return out;
}

const app = (i: Installation, name: string) => [i.node, join(i.root, 'dist', 'apps', name, 'main.js')];

/** Another content node's replica, read after the node's own and before the primary. */
export interface ReadPeer {
  address: string;
  dbPort: number;
}

/** DB_READ_HOSTS of a node: its own replica, the other nodes' replicas, the primary last (each `host:port`). Pure. */
export const readHosts = (local: string, peers: readonly string[], primary: string): string =>
  [`replica@${local}`, ...peers.map((p) => `replica@${p}`), `primary@${primary}`].join(',');

/** DB_READ_HOSTS of a content node from its site file: its replica at its address, then `peers`' replicas. Pure. */
export const nodeReadHosts = (site: NodeSite, peers: readonly ReadPeer[]): string =>
  readHosts(`${site.address}:${site.ports.mariadb}`, peers.map((p) => `${p.address}:${p.dbPort}`), `${site.warehouse.address}:${site.warehouse.mariadb}`);

/** The services of a content node: its replica, the apis, the web instances and lb, in start order. */
export function nodeServices(site: NodeSite, install: Installation, secrets: SiteSecrets, readPeers: readonly ReadPeer[] = []): ServiceSpec[] {
  const tls = tlsFiles(site.home, site.name);
  const mariadb: ServiceSpec = { name: 'vita-mariadb', description: `Vita MariaDB replica of ${site.name}`, command: install.mariadbd, env: {}, secrets: {}, after: [] };
  const primary = `${site.warehouse.address}:${site.warehouse.mariadb}`;
  const apis = site.ports.api.map((port): ServiceSpec => ({
    name: `vita-api-${port}`,
    description: `Vita api on port ${port}`,
    command: app(install, 'api'),
    env: {
      HOST: '127.0.0.1',
      PORT: String(port),
      DB_NAME: 'vita',
      DB_READ_USER: ACCOUNTS.reader,
      DB_WRITE_USER: ACCOUNTS.writer,
      // The replica listens on the node's address only, and its certificate names that address.
      DB_READ_HOSTS: nodeReadHosts(site, readPeers),
      DB_WRITE_HOST: primary,
      DB_TLS_CA: tls.ca,
    },
    secrets: pick(secrets, ['DB_READ_PASSWORD', 'DB_WRITE_PASSWORD', 'VITA_ADMIN_TOKEN'], `vita-api-${port}`),
    after: [mariadb.name],
  }));
  const apiUrls = site.ports.api.map((p) => `http://127.0.0.1:${p}`).join(',');
  const webs = site.ports.web.map((port): ServiceSpec => ({
    name: `vita-web-${port}`,
    description: `Vita web on port ${port}`,
    command: app(install, 'web'),
    env: { HOST: '127.0.0.1', PORT: String(port), API_URLS: apiUrls },
    secrets: {},
    after: [],
  }));
  const lb: ServiceSpec = {
    name: 'vita-lb',
    description: `Vita lb of ${site.name}`,
    command: app(install, 'lb'),
    env: {
      LB_LISTEN: `0.0.0.0:${site.ports.lb}`,
      LB_ADMIN_LISTEN: `127.0.0.1:${site.ports.lbAdmin}`,
      LB_BACKENDS: site.ports.web.map((p, i) => `web${i + 1}=http://127.0.0.1:${p}`).join(','),
      LB_NODE_NAME: site.name,
      LB_PEERS_URL: `http://127.0.0.1:${site.ports.api[0]}/api/v1/sites/peers`,
      LB_PEER_LISTEN: `0.0.0.0:${site.ports.lbPeer}`,
      LB_PEER_TLS_CERT: tls.cert,
      LB_PEER_TLS_KEY: tls.key,
      LB_BACKUP_CA: tls.ca,
    },
    secrets: pick(secrets, ['LB_ADMIN_TOKEN'], 'vita-lb'),
    after: [],
  };
  return [mariadb, ...apis, ...webs, lb];
}

/** The services of the data warehouse: the primary and repl-admin. */
export function warehouseServices(site: WarehouseSite, install: Installation, secrets: SiteSecrets): ServiceSpec[] {
  const tls = tlsFiles(site.home, site.name);
  const mariadb: ServiceSpec = { name: 'vita-mariadb', description: `Vita MariaDB primary of ${site.name}`, command: install.mariadbd, env: {}, secrets: {}, after: [] };
  const replAdmin: ServiceSpec = {
    name: 'vita-repl-admin',
    description: 'Vita repl-admin (replication watch and repair)',
    command: app(install, 'repl-admin'),
    env: {
      HOST: '0.0.0.0',
      PORT: String(site.ports.replAdmin),
      REPL_SERVERS_FILE: join(site.home, 'topology', 'servers.yaml'),
      REPL_MONITOR_USER: ACCOUNTS.replMonitor,
      REPL_ADMIN_USER: ACCOUNTS.replAdmin,
      REPL_REPLICATION_USER: ACCOUNTS.replication,
      REPL_TLS_CA: tls.ca,
      REPL_AUDIT_LOG: join(site.home, 'logs', 'repl-admin-audit.jsonl'),
    },
    secrets: pick(secrets, ['REPL_MONITOR_PASSWORD', 'REPL_ADMIN_PASSWORD', 'REPL_ADMIN_TOKEN', 'DB_REPL_PASSWORD'], 'vita-repl-admin'),
    after: [mariadb.name],
  };
  replAdmin.secrets = { ...replAdmin.secrets, REPL_REPLICATION_PASSWORD: replAdmin.secrets['DB_REPL_PASSWORD'] };
  delete replAdmin.secrets['DB_REPL_PASSWORD'];
  return [mariadb, replAdmin];
}

/** A role's services, its target's name and description. */
export function roleServices(site: SiteConfig, install: Installation, secrets: SiteSecrets, readPeers: readonly ReadPeer[] = []): { target: string; description: string; services: ServiceSpec[] } {
  return site.role === 'node'
    ? { target: 'vita-node', description: `Vita content node ${site.name}`, services: nodeServices(site, install, secrets, readPeers) }
    : { target: 'vita-warehouse', description: `Vita data warehouse ${site.name}`, services: warehouseServices(site, install, secrets) };
}
