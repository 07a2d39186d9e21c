import { etagVersion, type SiteStatement } from '@vita/contracts';
import { createReplicationUser, findMariadbd, mariadbdArguments, MariaServer } from '@vita/mariadb';
import { parseEnvFile } from '@vita/runtime';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mariadb';
import { JoinError, type NodeHost } from './join';
import { ACCOUNTS, roleServices, tlsFiles, type Installation, type ReadPeer, type SiteSecrets } from './role-services';
import { DEFAULT_HOME, type NodeSite, type SiteConfig, type WarehouseSite } from './site-config';
import { writeUnits, type ServiceSpec, type WrittenUnits } from './systemd';

/** Where a host's files are, under the site file's `home`. */
export interface HostLayout {
  /** The MariaDB data directory (`data/primary` on the warehouse, `data/replica` on a node). */
  dataDir: string;
  /** Private (0700) folder of the admin socket and the pid file. */
  runDir: string;
  socketPath: string;
  pidFile: string;
  logFile: string;
  /** The services' secret environment files (0700, files 0600). */
  envDir: string;
  /** The site's secrets (NAME=value, 0600). */
  secretsFile: string;
  /** The site CA (warehouse only). */
  caDir: string;
  /** repl-admin's REPL_SERVERS_FILE (warehouse only; the same path role-services gives it). */
  serversFile: string;
  logsDir: string;
}

/** The unix socket's path must fit sun_path (108 bytes); MariaServer falls back to another folder past 100. */
const SOCKET_MAX = 100;

/** Pure: the host's paths. Throws when `home` is too long for a unix socket under it. */
export function hostLayout(site: SiteConfig): HostLayout {
  const runDir = join(site.home, 'run', 'mariadb');
  const socketPath = join(runDir, 'mysqld.sock');
  if (socketPath.length >= SOCKET_MAX) throw new Error(`home ${site.home} is too long: the database socket ${socketPath} must be under ${SOCKET_MAX} characters`);
  return {
    dataDir: join(site.home, 'data', site.role === 'warehouse' ? 'primary' : 'replica'),
    runDir,
    socketPath,
    pidFile: join(runDir, 'mariadbd.pid'),
    logFile: join(site.home, 'logs', 'mariadb.log'),
    envDir: join(site.home, 'env'),
    secretsFile: join(site.home, 'secrets.env'),
    caDir: join(site.home, 'ca'),
    serversFile: join(site.home, 'topology', 'servers.yaml'),
    logsDir: join(site.home, 'logs'),
  };
}

/**
 * Pure: the MariaDB server id of a host, unique in the site: 1 for the warehouse's primary; a content
 * node's is derived from its name (unique in the topology), in 2 … 2^32-1.
 */
export function siteServerId(site: SiteConfig): number {
  if (site.role === 'warehouse') return 1;
  return 2 + (createHash('sha256').update(site.name).digest().readUInt32BE(0) % (2 ** 32 - 2));
}

/** The programs of this host. */
export interface HostPrograms {
  /** The folder holding dist/apps/<app>/main.js. */
  root: string;
  /** The node binary. */
  node: string;
  /** The mariadbd binary. */
  mariadbd: string;
  /** mariadbd runs as root (`--user=root`; the units have no User=). Default: whether this process is root. */
  asRoot?: boolean;
}

/**
 * Pure: mariadbd's command line for the host's server: bound to the site file's address, every TCP
 * connection over TLS with the host's certificate (`--require-secure-transport=ON`), durable, the
 * admin socket in the private run folder.
 */
export function mariadbdCommand(site: SiteConfig, programs: HostPrograms): string[] {
  const layout = hostLayout(site);
  const tls = tlsFiles(site.home, site.name);
  return [
    programs.mariadbd,
    ...mariadbdArguments({
      dataDir: layout.dataDir,
      socketPath: layout.socketPath,
      pidFile: layout.pidFile,
      logFile: layout.logFile,
      port: site.ports.mariadb,
      bindAddress: site.address,
      serverId: siteServerId(site),
      role: site.role === 'warehouse' ? 'primary' : 'replica',
      durable: true,
      tls: { ca: tls.ca, cert: tls.cert, key: tls.key, requireSecureTransport: true },
      asRoot: programs.asRoot ?? process.getuid?.() === 0,
    }),
  ];
}

export const hostInstallation = (site: SiteConfig, programs: HostPrograms): Installation => ({ root: programs.root, node: programs.node, mariadbd: mariadbdCommand(site, programs) });

/** The CA file a content node keeps (the default home's): what REPL_REPLICA_TLS_CA names for a rebuild of a node (a joining node names its own). */
export const NODE_CA_FILE = tlsFiles(DEFAULT_HOME, 'node').ca;

/**
 * Pure: the role's services as this host runs them: `roleServices`, and on the warehouse repl-admin
 * serving HTTPS with the warehouse's certificate and handing out join bundles (REPL_JOIN_SECRET,
 * REPL_CA_DIR, REPL_SITE_SECRETS_FILE), verifying the servers against the site CA.
 */
export function hostServices(site: SiteConfig, programs: HostPrograms, secrets: SiteSecrets, readPeers: readonly ReadPeer[] = []): { target: string; description: string; services: ServiceSpec[] } {
  const role = roleServices(site, hostInstallation(site, programs), secrets, readPeers);
  if (site.role !== 'warehouse') return role;
  const joinSecret = secrets['REPL_JOIN_SECRET'];
  if (!joinSecret) throw new Error('vita-repl-admin needs the secret REPL_JOIN_SECRET, which the secrets file does not have (run init)');
  const layout = hostLayout(site);
  const tls = tlsFiles(site.home, site.name);
  const services = role.services.map((s): ServiceSpec =>
    s.name !== 'vita-repl-admin'
      ? s
      : {
          ...s,
          env: {
            ...s.env,
            REPL_TLS_CA: tls.ca,
            REPL_REPLICA_TLS_CA: NODE_CA_FILE,
            REPL_HTTPS_CERT: tls.cert,
            REPL_HTTPS_KEY: tls.key,
            REPL_CA_DIR: layout.caDir,
            REPL_SITE_SECRETS_FILE: layout.secretsFile,
          },
          secrets: { ...s.secrets, REPL_JOIN_SECRET: joinSecret },
        },
  );
  return { ...role, services };
}

/** Pure: repl-admin's servers file on the warehouse: the primary (the content nodes' replicas come from the topology, site_nodes). */
export function serversFileText(site: SiteConfig): string {
  const host = site.address.includes(':') ? `[${site.address}]` : site.address;
  return `# Written by \`npm run site -- units\`: the content nodes' replicas are read from the topology (site_nodes).\nprimary:\n  name: primary\n  address: ${host}:${site.ports.mariadb}\nreplicas: []\n`;
}

function writeWhole(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

/** The host's folders: private where they hold data, secrets or the admin socket. */
export function prepareHostDirs(site: SiteConfig): HostLayout {
  const layout = hostLayout(site);
  mkdirSync(site.home, { recursive: true, mode: 0o755 });
  for (const dir of [join(site.home, 'data'), layout.runDir, layout.envDir, join(site.home, 'tls')]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
  chmodSync(join(site.home, 'run'), 0o700);
  mkdirSync(layout.logsDir, { recursive: true, mode: 0o750 });
  if (site.role === 'warehouse') mkdirSync(join(site.home, 'topology'), { recursive: true, mode: 0o755 });
  return layout;
}

/** Reads the host's secrets file; throws naming what to run when it is missing. */
export function readHostSecrets(site: SiteConfig): SiteSecrets {
  const file = hostLayout(site).secretsFile;
  if (!existsSync(file)) throw new Error(`${file} does not exist: run \`npm run site -- ${site.role === 'warehouse' ? 'init' : 'join'}\` first`);
  return parseEnvFile(readFileSync(file, 'utf8'), file);
}

/** (Re)writes the role's units into `unitDir` and their secrets into `<home>/env`; on the warehouse also repl-admin's servers file. */
/** Where a content node keeps the other nodes' replicas it reads (learned when it joined), so rewriting its units keeps them. */
const readPeersFile = (site: SiteConfig) => join(site.home, 'topology', 'read-peers.json');

export function saveReadPeers(site: SiteConfig, peers: readonly ReadPeer[]): void {
  mkdirSync(join(site.home, 'topology'), { recursive: true, mode: 0o755 });
  writeWhole(readPeersFile(site), `${JSON.stringify(peers.map((p) => ({ address: p.address, dbPort: p.dbPort })))}\n`, 0o644);
}

export function loadReadPeers(site: SiteConfig): ReadPeer[] {
  try {
    const list = JSON.parse(readFileSync(readPeersFile(site), 'utf8')) as unknown;
    return Array.isArray(list) ? list.filter((p): p is ReadPeer => typeof p?.address === 'string' && Number.isInteger(p?.dbPort)) : [];
  } catch {
    return [];
  }
}

export function writeHostUnits(site: SiteConfig, programs: HostPrograms, secrets: SiteSecrets, unitDir: string): WrittenUnits & { target: string } {
  const { target, description, services } = hostServices(site, programs, secrets, site.role === 'node' ? loadReadPeers(site) : []);
  const layout = prepareHostDirs(site);
  const written = writeUnits(unitDir, layout.envDir, target, description, services);
  if (site.role === 'warehouse') writeWhole(layout.serversFile, serversFileText(site), 0o644);
  return { ...written, target };
}

/** Initialises the host's MariaDB data directory when it has none (root@localhost over the socket only); keeps an existing one. */
export async function ensureDataDir(site: SiteConfig, mariadbd: string): Promise<void> {
  const layout = hostLayout(site);
  if (existsSync(join(layout.dataDir, 'mysql'))) return;
  await MariaServer.create({
    name: site.role === 'warehouse' ? 'primary' : 'replica',
    dataDir: layout.dataDir,
    runDir: layout.runDir,
    port: site.ports.mariadb,
    serverId: siteServerId(site),
    role: site.role === 'warehouse' ? 'primary' : 'replica',
    binaries: { ...findMariadbd(), mariadbd },
  });
}

/** Pure: the primary's version in an api's `/health/ready` body (the `read-database` check's `detail.primary.version`). */
export function readyPrimaryVersion(report: unknown): number | undefined {
  const checks = (report as { checks?: unknown } | null)?.checks;
  if (!Array.isArray(checks)) return undefined;
  const check = checks.find((c: { name?: unknown }) => c?.name === 'read-database') as { detail?: { primary?: { version?: unknown } } } | undefined;
  const version = check?.detail?.primary?.version;
  return typeof version === 'number' && Number.isInteger(version) && version >= 0 ? version : undefined;
}

/**
 * Runs one of a bundle's commands (`dist/apps/<app>/<script>`, e.g. the api's provision.js) to the end,
 * bounded, with only PATH and `env` (secrets travel in the environment, never on its command line);
 * the error is the first line it printed.
 */
export function runBundle(programs: Pick<HostPrograms, 'root' | 'node'>, app: string, script: string, env: Record<string, string>, timeoutMs = 120_000): Promise<void> {
  const file = join(programs.root, 'dist', 'apps', app, script);
  if (!existsSync(file)) return Promise.reject(new Error(`${file} is missing: build the bundles first (npx nx run-many -t build -p api,web,lb,repl-admin)`));
  return new Promise((done, fail) => {
    execFile(programs.node, [file], { env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return done();
      fail(new JoinError(`${app} ${script} failed: ${firstLine(`${stderr}\n${stdout}`, err.message)}`));
    });
  });
}

/** The api's accounts (reader, writer, migrator) for `userHost`, created as root over `socket` by the api bundle's provision.js. */
export function provisionApiAccounts(programs: Pick<HostPrograms, 'root' | 'node'>, socket: string, secrets: SiteSecrets, userHost: string): Promise<void> {
  const need = ['DB_READ_PASSWORD', 'DB_WRITE_PASSWORD', 'DB_MIGRATE_PASSWORD'].filter((n) => !secrets[n]);
  if (need.length > 0) return Promise.reject(new JoinError(`the site's secrets lack ${need.join(', ')}`));
  return runBundle(programs, 'api', 'provision.js', {
    DB_ADMIN_SOCKET: socket,
    DB_USER_HOST: userHost,
    DB_NAME: 'vita',
    DB_READ_USER: ACCOUNTS.reader,
    DB_READ_PASSWORD: secrets['DB_READ_PASSWORD'],
    DB_WRITE_USER: ACCOUNTS.writer,
    DB_WRITE_PASSWORD: secrets['DB_WRITE_PASSWORD'],
    DB_MIGRATE_USER: ACCOUNTS.migrator,
    DB_MIGRATE_PASSWORD: secrets['DB_MIGRATE_PASSWORD'],
  });
}

/**
 * On the warehouse, with its primary running (systemd's `vita-mariadb`): the api's and repl-admin's
 * accounts and the replication account (REQUIRE SSL) as root over the admin socket, then the schema's
 * migrations as the migrator over verified TLS to the site file's address. Every step is safe to re-run.
 */
export async function provisionWarehouse(site: WarehouseSite, programs: HostPrograms, secrets: SiteSecrets): Promise<void> {
  const layout = hostLayout(site);
  const need = ['REPL_MONITOR_PASSWORD', 'REPL_ADMIN_PASSWORD', 'DB_REPL_PASSWORD'].filter((n) => !secrets[n]);
  if (need.length > 0) throw new Error(`${layout.secretsFile} lacks ${need.join(', ')}: run init`);
  await provisionApiAccounts(programs, layout.socketPath, secrets, '%');
  await runBundle(programs, 'repl-admin', 'provision.js', {
    DB_ADMIN_SOCKET: layout.socketPath,
    REPL_USER_HOST: '%',
    REPL_MONITOR_USER: ACCOUNTS.replMonitor,
    REPL_MONITOR_PASSWORD: secrets['REPL_MONITOR_PASSWORD'],
    REPL_ADMIN_USER: ACCOUNTS.replAdmin,
    REPL_ADMIN_PASSWORD: secrets['REPL_ADMIN_PASSWORD'],
  });
  const primary = await adminHandle(site);
  await createReplicationUser(primary, ACCOUNTS.replication, secrets['DB_REPL_PASSWORD'], { requireSsl: 'SSL' });
  await runBundle(programs, 'api', 'migrate.js', {
    DB_WRITE_HOST: `${site.address}:${site.ports.mariadb}`,
    DB_NAME: 'vita',
    DB_MIGRATE_USER: ACCOUNTS.migrator,
    DB_MIGRATE_PASSWORD: secrets['DB_MIGRATE_PASSWORD'] ?? '',
    DB_TLS_CA: tlsFiles(site.home, site.name).ca,
  });
}

/** An admin handle on the host's server over its socket (the server is systemd's: never started or stopped from here). */
export function adminHandle(site: SiteConfig): Promise<MariaServer> {
  const layout = hostLayout(site);
  return MariaServer.create({
    name: site.role === 'warehouse' ? 'primary' : 'replica',
    dataDir: layout.dataDir,
    runDir: layout.runDir,
    port: site.ports.mariadb,
    bindAddress: site.address,
    serverId: siteServerId(site),
    role: site.role === 'warehouse' ? 'primary' : 'replica',
  });
}

/** Whether the host's MariaDB answers on its admin socket (bounded: a few seconds). */
export async function socketAnswers(site: SiteConfig): Promise<boolean> {
  if (!existsSync(hostLayout(site).socketPath) || !existsSync(join(hostLayout(site).dataDir, 'mysql'))) return false;
  const server = await adminHandle(site);
  return server.query('SELECT 1', undefined, { connectTimeoutMs: 2000, timeoutMs: 5000 }).then(
    () => true,
    () => false,
  );
}

export interface SystemdHostOptions {
  site: NodeSite;
  programs: HostPrograms;
  /** Where the units are written (default /etc/systemd/system). */
  unitDir?: string;
  /** The systemctl program (default `systemctl`, looked up in PATH). */
  systemctl?: string;
  /** Bound on each systemctl call (default 120 s). */
  commandTimeoutMs?: number;
  /** Bound on the replica's socket answering after its start (default 60 s). */
  replicaTimeoutMs?: number;
  /** Bound on the local api answering with the primary's version (default 120 s). */
  readyTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first line of what a failed program said, or how it failed. */
const firstLine = (text: string, fallback: string) => text.split('\n').map((l) => l.trim()).find(Boolean) ?? fallback;

/**
 * This content node as systemd runs it: `vita-mariadb` (the replica), `vita-api-<port>`,
 * `vita-web-<port>` and `vita-lb`, all part of `vita-node.target`. The replica is administered as
 * root over its private unix socket; the units are (re)written from the site file and the secrets the
 * warehouse handed out before anything is started.
 */
export class SystemdNodeHost implements NodeHost {
  readonly layout: HostLayout;
  readonly target = 'vita-node';
  private readonly unitDir: string;

  constructor(private readonly o: SystemdHostOptions) {
    this.layout = hostLayout(o.site);
    this.unitDir = o.unitDir ?? '/etc/systemd/system';
  }

  /** The node's first api (its units listen on 127.0.0.1). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.o.site.ports.api[0]}`;
  }

  /** Runs systemctl; the error names the command and the first line systemctl printed. */
  systemctl(...args: string[]): Promise<void> {
    const program = this.o.systemctl ?? 'systemctl';
    return new Promise((done, fail) => {
      execFile(program, args, { timeout: this.o.commandTimeoutMs ?? 120_000, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (!err) return done();
        fail(new JoinError(`systemctl ${args.join(' ')} failed: ${firstLine(`${stderr}\n${stdout}`, err.message)}`));
      });
    });
  }

  /** Writes the units with `secrets` (default: the host's secrets file) and has systemd read them again. */
  async writeUnits(secrets?: SiteSecrets): Promise<WrittenUnits> {
    const all = { ...readHostSecretsIfAny(this.o.site), ...(secrets ?? {}) };
    const written = writeHostUnits(this.o.site, this.o.programs, all, this.unitDir);
    await this.systemctl('daemon-reload');
    return written;
  }

  async startReplica(): Promise<void> {
    await this.writeUnits();
    await ensureDataDir(this.o.site, this.o.programs.mariadbd);
    await this.systemctl('start', 'vita-mariadb.service');
    const timeoutMs = this.o.replicaTimeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    let last = 'no socket yet';
    for (;;) {
      try {
        if (existsSync(this.layout.socketPath)) {
          await this.query('SELECT 1');
          return;
        }
      } catch (err) {
        last = (err as Error).message.split('\n')[0];
      }
      if (Date.now() > deadline) throw new JoinError(`the replica (vita-mariadb) does not answer on ${this.layout.socketPath} within ${timeoutMs / 1000} s (${last}): see journalctl -u vita-mariadb and ${this.layout.logFile}`);
      await sleep(200);
    }
  }

  /** One connection as root over the socket: `SET SESSION sql_log_bin = 0`, then the statements in order. */
  async local(statements: SiteStatement[]): Promise<void> {
    await this.withConnection(async (query) => {
      await query('SET SESSION sql_log_bin = 0', []);
      for (const [i, s] of statements.entries()) {
        try {
          await query(s.sql, s.params);
        } catch (err) {
          const e = err as { code?: string; text?: string };
          // The server may quote the statement, with its parameters (passwords) filled in: only then is its text withheld.
          const detail = s.params.length > 0 ? '(details withheld: the statement has parameters)' : (e.text ?? (err as Error).message.split('\n')[0]);
          throw new JoinError(`statement ${i + 1} of ${statements.length} on the local replica failed: ${e.code ?? 'error'}: ${detail}`);
        }
      }
    });
  }

  async replicaStatus(): Promise<Record<string, unknown> | null> {
    const rows = (await this.query('SHOW REPLICA STATUS')) as Record<string, unknown>[];
    return rows[0] ?? null;
  }

  /** The api bundle's provision.js as root over the socket: the api's accounts on the replica, for `userHost`. */
  provisionAccounts(secrets: Record<string, string>, userHost: string): Promise<void> {
    return provisionApiAccounts(this.o.programs, this.layout.socketPath, secrets, userHost);
  }

  async startServices(secrets: Record<string, string>, readPeers: readonly ReadPeer[] = []): Promise<void> {
    saveReadPeers(this.o.site, readPeers);
    await this.writeUnits(secrets);
    await this.systemctl('start', `${this.target}.target`);
  }

  async stopServices(): Promise<void> {
    await this.systemctl('stop', `${this.target}.target`);
  }

  /** `systemctl enable` / `disable` of the target: started at boot, or not. */
  async startAtBoot(on: boolean): Promise<void> {
    await this.systemctl(on ? 'enable' : 'disable', `${this.target}.target`);
  }

  async pageVersion(): Promise<number | null> {
    const res = await fetch(`http://127.0.0.1:${this.o.site.ports.lb}/`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status === 200 ? etagVersion(res.headers.get('etag')) : null;
  }

  /** Waits (bounded) until the first local api reports the primary's version in its readiness detail. */
  async primaryVersion(): Promise<number> {
    const url = `${this.apiUrl}/health/ready`;
    const timeoutMs = this.o.readyTimeoutMs ?? 120_000;
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
        const version = readyPrimaryVersion(await res.json());
        if (version !== undefined) return version;
        last = `answered ${res.status} without the primary's version`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new JoinError(`the local api (${url}) does not report the primary's version within ${timeoutMs / 1000} s (${last}): see journalctl -u vita-api-${this.o.site.ports.api[0]}`);
      await sleep(500);
    }
  }

  private query(sql: string, params: unknown[] = []): Promise<unknown> {
    return this.withConnection((q) => q(sql, params));
  }

  private async withConnection<T>(work: (query: (sql: string, params: unknown[]) => Promise<unknown>) => Promise<T>): Promise<T> {
    const conn = await createConnection({ socketPath: this.layout.socketPath, user: 'root', connectTimeout: 5000, socketTimeout: 60_000, logParam: false, bigIntAsNumber: true, checkDuplicate: false });
    try {
      return await work((sql, params) => conn.query(sql, params));
    } finally {
      await conn.end().catch(() => conn.destroy());
    }
  }
}

function readHostSecretsIfAny(site: SiteConfig): SiteSecrets {
  return existsSync(hostLayout(site).secretsFile) ? readHostSecrets(site) : {};
}
