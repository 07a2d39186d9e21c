// The pieces every way of running Vita is made of (one machine: stack.ts; several hosts: sites.ts).
import { ACCOUNTS } from '@vita/sites';
import { createReplicationUser, findMariadbd, findMariadbdPids, MariadbNotInstalledError, MariaServer, pidAlive, sendSignal, sleep } from '@vita/mariadb';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Secrets } from './secrets';
import { HttpFetch, Service, ServiceWhere } from './service';

/** The site's database accounts. */
export const USERS = ACCOUNTS;

export type Say = (line: string) => void;

/** Installs MariaDB's server package when it is missing and we are root; otherwise says how. */
export function ensureMariadb(say: Say): void {
  try {
    findMariadbd();
    return;
  } catch (err) {
    if (!(err instanceof MariadbNotInstalledError)) throw err;
    if (process.getuid?.() !== 0) throw new Error(`${err.message} — then run npm start again`);
  }
  say('installing MariaDB (apt-get install -y mariadb-server)…');
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', 'mariadb-server']]) {
    const run = spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (run.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${run.status})`);
  }
  findMariadbd();
}

export async function timed<T>(say: Say, what: string, work: () => Promise<T> | T): Promise<T> {
  const started = Date.now();
  const result = await work();
  say(`✓ ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

/** Builds the bundles the given apps need (`nx run-many -t build`). */
export function buildApps(root: string, projects: string[]): void {
  const list = projects.join(',');
  const run = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', list, '--outputStyle=static'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NX_DAEMON: 'false' },
  });
  if (run.status !== 0) throw new Error(`building ${list} failed:\n${run.stdout}\n${run.stderr}`);
}

/** Runs one of a bundle's commands (provision.js, migrate.js) to completion, in `netns` when given; output only on failure. */
export function runCommand(root: string, app: string, script: string, env: Record<string, string>, netns?: string): void {
  const node = [process.execPath, join(root, 'dist', 'apps', app, script)];
  const [command, ...args] = netns ? ['ip', 'netns', 'exec', netns, ...node] : node;
  const run = spawnSync(command, args, { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8', timeout: 120_000 });
  if (run.status !== 0) throw new Error(`${app} ${script} failed: ${(run.stderr || run.stdout || String(run.error)).trim()}`);
}

/** Stores a résumé through an api; returns the new version. */
export async function putResume(ask: HttpFetch, apiUrl: string, token: string, json: string): Promise<number> {
  const res = await ask(`${apiUrl}/api/v1/resume`, {
    method: 'PUT',
    body: json,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await res.json()) as { version?: number; message?: string };
  if (!res.ok || body.version === undefined) throw new Error(`loading the résumé failed (${res.status}): ${body.message ?? ''}`);
  return body.version;
}

/** Waits (bounded) until an api serves `version`: the write has replicated and the api has seen it. */
export async function waitForVersion(ask: HttpFetch, url: string, version: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const etag = await ask(`${url}/api/v1/resume`, { signal: AbortSignal.timeout(2000) }).then((r) => r.headers.get('etag'), () => null);
    if (etag === `"v${version}"`) return;
    await sleep(100);
  }
  throw new Error(`${url} does not serve version ${version} after ${timeoutMs / 1000} s: is the replica replicating? (see the logs)`);
}

/** Loads tools/sample/resume.json through the first api when the database holds no résumé yet (version 0). */
export async function loadSampleIfEmpty(root: string, ask: HttpFetch, apiUrls: string[], token: string, say: Say): Promise<void> {
  const current = await ask(`${apiUrls[0]}/api/v1/resume`, { signal: AbortSignal.timeout(5000) }).then((r) => r.headers.get('etag'));
  if (current !== '"v0"') return;
  await timed(say, 'sample résumé loaded', async () => {
    const version = await putResume(ask, apiUrls[0], token, readFileSync(join(root, 'tools', 'sample', 'resume.json'), 'utf8'));
    await Promise.all(apiUrls.map((url) => waitForVersion(ask, url, version)));
  });
}

/** Registers (or updates) a content node in the topology through an api (admin token); the row replicates to every node. */
export async function registerNode(ask: HttpFetch, apiUrl: string, token: string, name: string, node: { address: string; dbPort: number; peerUrl: string; state: 'joining' | 'active' | 'leaving' }): Promise<void> {
  const res = await ask(`${apiUrl}/api/v1/sites/nodes/${name}`, {
    method: 'PUT',
    body: JSON.stringify(node),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    signal: AbortSignal.timeout(15_000),
  });
  if (!res.ok) throw new Error(`registering ${name} in the topology failed (${res.status}): ${(await res.text()).slice(0, 300)}`);
}

/** Stops mariadbd processes left over from a run that was killed, so their ports and files are free. */
export async function stopLeftovers(dataRoot: string, say: Say): Promise<void> {
  const pids = findMariadbdPids(dataRoot);
  if (pids.length === 0) return;
  say(`stopping ${pids.length} MariaDB process(es) left from an earlier run…`);
  pids.forEach((pid) => sendSignal(pid, 'SIGTERM'));
  for (let i = 0; i < 300 && pids.some(pidAlive); i++) await sleep(100);
  pids.filter(pidAlive).forEach((pid) => sendSignal(pid, 'SIGKILL'));
}

/** The api's database settings that every api and the migration share. */
export function dbEnv(secrets: Secrets, writeHost: string, tlsCa?: string): Record<string, string> {
  return {
    ...(tlsCa ? { DB_TLS_CA: tlsCa } : {}),
    DB_NAME: 'vita',
    DB_READ_USER: USERS.reader,
    DB_READ_PASSWORD: secrets.DB_READ_PASSWORD,
    DB_WRITE_USER: USERS.writer,
    DB_WRITE_PASSWORD: secrets.DB_WRITE_PASSWORD,
    DB_WRITE_HOST: writeHost,
  };
}

/**
 * The accounts on the primary: the api's (reader, writer, migrator), repl-admin's when asked, and the
 * replication account. `userHost` is the host pattern the api's and repl-admin's accounts admit
 * (127.0.0.1 on one machine; the segment's subnet, like 10.77.0.%, across hosts).
 */
export async function provisionPrimary(root: string, primary: MariaServer, secrets: Secrets, opts: { userHost: string; replAdmin: boolean; requireSsl?: boolean }): Promise<void> {
  runCommand(root, 'api', 'provision.js', {
    ...dbEnv(secrets, `${primary.host}:${primary.port}`),
    DB_ADMIN_SOCKET: primary.socketPath,
    DB_USER_HOST: opts.userHost,
    DB_MIGRATE_USER: USERS.migrator,
    DB_MIGRATE_PASSWORD: secrets.DB_MIGRATE_PASSWORD,
  });
  if (opts.replAdmin) {
    runCommand(root, 'repl-admin', 'provision.js', {
      DB_ADMIN_SOCKET: primary.socketPath,
      REPL_USER_HOST: opts.userHost,
      REPL_MONITOR_USER: USERS.replMonitor,
      REPL_MONITOR_PASSWORD: secrets.REPL_MONITOR_PASSWORD,
      REPL_ADMIN_USER: USERS.replAdmin,
      REPL_ADMIN_PASSWORD: secrets.REPL_ADMIN_PASSWORD,
    });
  }
  await createReplicationUser(primary, USERS.replication, secrets.DB_REPL_PASSWORD, opts.requireSsl ? { requireSsl: 'SSL' } : {});
}

/** Migrates the schema on the primary (from `netns` when the primary lives in one). */
export function migrate(root: string, secrets: Secrets, writeHost: string, netns?: string, tlsCa?: string): void {
  runCommand(root, 'api', 'migrate.js', { ...dbEnv(secrets, writeHost, tlsCa), DB_MIGRATE_USER: USERS.migrator, DB_MIGRATE_PASSWORD: secrets.DB_MIGRATE_PASSWORD }, netns);
}

/** repl-admin's settings; `servers` is REPL_SERVERS (`name=host:port[@node],…`, the primary first). */
export function replAdminEnv(secrets: Secrets, servers: string, auditLog: string, tlsCa?: string): Record<string, string> {
  return {
    // Its own connections and the replicas' (a rebuild) verify the servers' certificates against the site CA.
    ...(tlsCa ? { REPL_TLS_CA: tlsCa, REPL_REPLICA_TLS_CA: tlsCa } : {}),
    REPL_SERVERS: servers,
    REPL_MONITOR_USER: USERS.replMonitor,
    REPL_MONITOR_PASSWORD: secrets.REPL_MONITOR_PASSWORD,
    REPL_ADMIN_USER: USERS.replAdmin,
    REPL_ADMIN_PASSWORD: secrets.REPL_ADMIN_PASSWORD,
    REPL_ADMIN_TOKEN: secrets.REPL_ADMIN_TOKEN,
    REPL_REPLICATION_USER: USERS.replication,
    REPL_REPLICATION_PASSWORD: secrets.DB_REPL_PASSWORD,
    REPL_AUDIT_LOG: auditLog,
  };
}

/** Makes and remembers the Service processes of one host; stops them all at once. */
export class ServiceSet {
  readonly all: Service[] = [];

  constructor(
    private readonly root: string,
    private readonly logs: string,
    private readonly say: Say,
    private readonly where: ServiceWhere = {},
    /** Put before each service's name and log file (a host's name), when several hosts share a log folder. */
    private readonly label = '',
  ) {}

  add(kind: string, port: number, env: Record<string, string>, healthUrl?: string): Service {
    const s = new Service(
      `${this.label}${kind} :${port}`,
      port,
      join(this.root, 'dist', 'apps', kind, 'main.js'),
      env,
      join(this.logs, `${kind}-${port}.log`),
      (svc, how) => this.say(`✗ ${svc.name} exited (${how}); see ${svc.logFile}`),
      healthUrl,
      this.where,
    );
    this.all.push(s);
    return s;
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((s) => s.stop()));
  }
}
