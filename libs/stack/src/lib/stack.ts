import {
  configureReplica,
  createReplicationUser,
  findMariadbd,
  findMariadbdPids,
  MariadbNotInstalledError,
  MariaServer,
  pidAlive,
  replicaStatus,
  sendSignal,
  sleep,
  waitForReplicaCatchUp,
} from '@vita/mariadb';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureSecrets, Secrets } from './secrets';
import { Service } from './service';

/** Where and how the local stack runs. Every field has a default; the README lists the variables. */
export interface StackOptions {
  /** Workspace root (holds dist/ and tools/). */
  root: string;
  /** Data, logs and secrets (default `<root>/.vita`, `VITA_HOME`). */
  home: string;
  primaryPort: number;
  replicaPort: number;
  apiPorts: number[];
  /** web instances (none: the stack stops at the api). */
  webPorts?: number[];
  /** repl-admin watching the primary and the replica; none when unset. */
  replAdminPort?: number;
  /** lb in front of the web instances (or of the apis when there is no web); none when unset. */
  lb?: { port: number; adminPort: number; listenHost: string; workers?: number };
  /** Build the bundles first (`nx run-many -t build`). */
  build: boolean;
  say: (line: string) => void;
}

export function stackOptionsFromEnv(root: string, env: NodeJS.ProcessEnv, say: (line: string) => void): StackOptions {
  const port = (name: string, fallback: number): number => {
    const value = env[name] ?? String(fallback);
    if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) throw new Error(`${name} must be a port number (1-65535)`);
    return Number(value);
  };
  const ports = (name: string, fallback: string) => (env[name] ?? fallback).split(',').map((p, i) => port(`${name}[${i}]`, Number(p)));
  return {
    root,
    home: env['VITA_HOME'] ?? join(root, '.vita'),
    primaryPort: port('VITA_PRIMARY_PORT', 13306),
    replicaPort: port('VITA_REPLICA_PORT', 13307),
    apiPorts: ports('VITA_API_PORTS', '3100,3101'),
    webPorts: ports('VITA_WEB_PORTS', '3000,3001'),
    replAdminPort: port('VITA_REPL_ADMIN_PORT', 3200),
    lb: { port: port('VITA_LB_PORT', 8080), adminPort: port('VITA_LB_ADMIN_PORT', 8404), listenHost: env['VITA_LB_HOST'] ?? '0.0.0.0' },
    build: env['VITA_SKIP_BUILD'] !== '1',
    say,
  };
}

const USERS = { reader: 'vita_reader', writer: 'vita_writer', migrator: 'vita_migrator', replication: 'vita_repl', replMonitor: 'repl_monitor', replAdmin: 'repl_admin' };

export interface RunningStack {
  primary: MariaServer;
  replica: MariaServer;
  apis: Service[];
  webs: Service[];
  lb?: Service;
  replAdmin?: Service;
  secrets: Secrets;
  stop(): Promise<void>;
}

/** Installs MariaDB's server package when it is missing and we are root; otherwise says how. */
export function ensureMariadb(say: (line: string) => void): void {
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

async function timed<T>(say: (line: string) => void, what: string, work: () => Promise<T> | T): Promise<T> {
  const started = Date.now();
  const result = await work();
  say(`✓ ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

/** Runs one of a bundle's commands (provision.js, migrate.js) to completion; output only on failure. */
function runCommand(o: StackOptions, app: string, script: string, env: Record<string, string>): void {
  const run = spawnSync(process.execPath, [join(o.root, 'dist', 'apps', app, script)], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.status !== 0) throw new Error(`${app} ${script} failed: ${(run.stderr || run.stdout || String(run.error)).trim()}`);
}

/** Stores a résumé through an api; returns the new version. */
async function putResume(apiUrl: string, token: string, json: string): Promise<number> {
  const res = await fetch(`${apiUrl}/api/v1/resume`, {
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
async function waitForVersion(url: string, version: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const etag = await fetch(`${url}/api/v1/resume`, { signal: AbortSignal.timeout(2000) }).then((r) => r.headers.get('etag'), () => null);
    if (etag === `"v${version}"`) return;
    await sleep(100);
  }
  throw new Error(`${url} does not serve version ${version} after ${timeoutMs / 1000} s: is the replica replicating? (see the logs)`);
}

/** Stops mariadbd processes left over from a run that was killed, so their ports and files are free. */
async function stopLeftovers(dataRoot: string, say: (line: string) => void): Promise<void> {
  const pids = findMariadbdPids(dataRoot);
  if (pids.length === 0) return;
  say(`stopping ${pids.length} MariaDB process(es) left from an earlier run…`);
  pids.forEach((pid) => sendSignal(pid, 'SIGTERM'));
  for (let i = 0; i < 300 && pids.some(pidAlive); i++) await sleep(100);
  pids.filter(pidAlive).forEach((pid) => sendSignal(pid, 'SIGKILL'));
}

export async function startStack(o: StackOptions): Promise<RunningStack> {
  const { say } = o;
  ensureMariadb(say);
  const dataRoot = join(o.home, 'data');
  const logs = join(o.home, 'logs');
  mkdirSync(dataRoot, { recursive: true, mode: 0o700 });
  mkdirSync(logs, { recursive: true });
  const secrets = ensureSecrets(join(o.home, 'secrets.env'));

  if (o.build) {
    await timed(say, 'services built', () => {
      const projects = ['api', ...(o.webPorts?.length ? ['web'] : []), ...(o.lb ? ['lb'] : []), ...(o.replAdminPort ? ['repl-admin'] : [])].join(',');
      const run = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '-p', projects, '--outputStyle=static'], {
        cwd: o.root,
        encoding: 'utf8',
        env: { ...process.env, NX_DAEMON: 'false' },
      });
      if (run.status !== 0) throw new Error(`building ${projects} failed:\n${run.stdout}\n${run.stderr}`);
    });
  }
  await stopLeftovers(dataRoot, say);

  const server = (name: string, serverId: number, role: 'primary' | 'replica', port: number) =>
    MariaServer.create({ name, serverId, role, port, dataDir: join(dataRoot, name), logFile: join(logs, `${name}.log`) });
  const primary = await server('primary', 1, 'primary', o.primaryPort);
  const replica = await server('replica1', 2, 'replica', o.replicaPort);
  const services: Service[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(services.map((s) => s.stop()));
    await replica.stop();
    await primary.stop();
  };
  const service = (kind: string, port: number, env: Record<string, string>, healthUrl?: string): Service => {
    const s = new Service(
      `${kind} :${port}`,
      port,
      join(o.root, 'dist', 'apps', kind, 'main.js'),
      env,
      join(logs, `${kind}-${port}.log`),
      (svc, how) => say(`✗ ${svc.name} exited (${how}); see ${svc.logFile}`),
      healthUrl,
    );
    services.push(s);
    return s;
  };

  try {
    await timed(say, `MariaDB primary on 127.0.0.1:${o.primaryPort}`, () => primary.start());
    await timed(say, `MariaDB replica on 127.0.0.1:${o.replicaPort}`, () => replica.start());

    const db = {
      DB_NAME: 'vita',
      DB_READ_USER: USERS.reader,
      DB_READ_PASSWORD: secrets.DB_READ_PASSWORD,
      DB_WRITE_USER: USERS.writer,
      DB_WRITE_PASSWORD: secrets.DB_WRITE_PASSWORD,
      DB_WRITE_HOST: `127.0.0.1:${o.primaryPort}`,
    };
    await timed(say, 'database users and replication set up', async () => {
      runCommand(o, 'api', 'provision.js', {
        ...db,
        DB_ADMIN_SOCKET: primary.socketPath,
        DB_USER_HOST: '127.0.0.1',
        DB_MIGRATE_USER: USERS.migrator,
        DB_MIGRATE_PASSWORD: secrets.DB_MIGRATE_PASSWORD,
      });
      if (o.replAdminPort) {
        runCommand(o, 'repl-admin', 'provision.js', {
          DB_ADMIN_SOCKET: primary.socketPath,
          REPL_USER_HOST: '127.0.0.1',
          REPL_MONITOR_USER: USERS.replMonitor,
          REPL_MONITOR_PASSWORD: secrets.REPL_MONITOR_PASSWORD,
          REPL_ADMIN_USER: USERS.replAdmin,
          REPL_ADMIN_PASSWORD: secrets.REPL_ADMIN_PASSWORD,
        });
      }
      await createReplicationUser(primary, USERS.replication, secrets.DB_REPL_PASSWORD);
      if (!(await replicaStatus(replica))) {
        await configureReplica(replica, primary, { user: USERS.replication, password: secrets.DB_REPL_PASSWORD });
      }
    });
    await timed(say, 'schema migrated on the primary', () =>
      runCommand(o, 'api', 'migrate.js', { ...db, DB_MIGRATE_USER: USERS.migrator, DB_MIGRATE_PASSWORD: secrets.DB_MIGRATE_PASSWORD }),
    );
    await timed(say, 'replica caught up', () => waitForReplicaCatchUp(replica, primary, 30_000));

    const apis = o.apiPorts.map((port) =>
      service('api', port, {
        ...db,
        HOST: '127.0.0.1',
        PORT: String(port),
        DB_READ_HOSTS: `replica@127.0.0.1:${o.replicaPort},primary@127.0.0.1:${o.primaryPort}`,
        VITA_ADMIN_TOKEN: secrets.VITA_ADMIN_TOKEN,
      }),
    );
    await timed(say, `api ×${apis.length} ready`, () => Promise.all(apis.map((api) => api.start())));
    const apiUrls = apis.map((api) => api.url);

    const current = await fetch(`${apiUrls[0]}/api/v1/resume`).then((r) => r.headers.get('etag'));
    if (current === '"v0"') {
      await timed(say, 'sample résumé loaded', async () => {
        const version = await putResume(apiUrls[0], secrets.VITA_ADMIN_TOKEN, readFileSync(join(o.root, 'tools', 'sample', 'resume.json'), 'utf8'));
        await Promise.all(apiUrls.map((url) => waitForVersion(url, version)));
      });
    }
    const webs = (o.webPorts ?? []).map((port) => service('web', port, { HOST: '127.0.0.1', PORT: String(port), API_URLS: apiUrls.join(',') }));
    if (webs.length > 0) await timed(say, `web ×${webs.length} ready`, () => Promise.all(webs.map((web) => web.start())));
    let replAdmin: Service | undefined;
    if (o.replAdminPort) {
      replAdmin = service('repl-admin', o.replAdminPort, {
        HOST: '127.0.0.1',
        PORT: String(o.replAdminPort),
        REPL_SERVERS: `primary=127.0.0.1:${o.primaryPort},replica1=127.0.0.1:${o.replicaPort}@local`,
        REPL_MONITOR_USER: USERS.replMonitor,
        REPL_MONITOR_PASSWORD: secrets.REPL_MONITOR_PASSWORD,
        REPL_ADMIN_USER: USERS.replAdmin,
        REPL_ADMIN_PASSWORD: secrets.REPL_ADMIN_PASSWORD,
        REPL_ADMIN_TOKEN: secrets.REPL_ADMIN_TOKEN,
        REPL_REPLICATION_USER: USERS.replication,
        REPL_REPLICATION_PASSWORD: secrets.DB_REPL_PASSWORD,
        REPL_AUDIT_LOG: join(logs, 'repl-admin-audit.jsonl'),
      });
      await timed(say, `repl-admin on 127.0.0.1:${o.replAdminPort}`, () => replAdmin?.start());
    }
    let lb: Service | undefined;
    if (o.lb) {
      const backends = (webs.length > 0 ? webs : apis).map((b, i) => `${webs.length > 0 ? 'web' : 'api'}${i + 1}=${b.url}`).join(',');
      lb = service(
        'lb',
        o.lb.port,
        {
          LB_LISTEN: `${o.lb.listenHost}:${o.lb.port}`,
          LB_ADMIN_LISTEN: `127.0.0.1:${o.lb.adminPort}`,
          LB_BACKENDS: backends,
          LB_ADMIN_TOKEN: secrets.LB_ADMIN_TOKEN,
          ...(o.lb.workers !== undefined ? { LB_WORKERS: String(o.lb.workers) } : {}),
        },
        `http://127.0.0.1:${o.lb.adminPort}`,
      );
      await timed(say, `lb on ${o.lb.listenHost}:${o.lb.port}`, () => lb?.start());
    }
    return { primary, replica, apis, webs, lb, replAdmin, secrets, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
