import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import {
  configureReplica,
  createReplicationUser,
  findMariadbd,
  findMariadbdPids,
  MariaServer,
  type MariaServerTls,
  pidAlive,
  sendSignal,
  waitForReplicaCatchUp,
} from '@vita/mariadb';

export interface TestTopology {
  primary: MariaServer;
  replicas: MariaServer[];
  /** Replication account name; its password stays internal. */
  replicationUser: string;
  /** Temp dir holding every data dir, socket and log of this topology. */
  dir: string;
  waitForReplica(replica: MariaServer, timeoutMs?: number): Promise<void>;
  waitForReplicas(timeoutMs?: number): Promise<void>;
  /** Kills every mariadbd and removes the temp dir; idempotent. */
  close(): Promise<void>;
}

export interface TopologyOptions {
  /** Number of replicas (default 2). */
  replicas?: number;
  tls?: TopologyTls;
}

/** Certificates of a topology whose links use TLS (files made by the caller, e.g. with @vita/sites' CA). */
export interface TopologyTls {
  /** Server TLS of the primary (requireSecureTransport: plaintext TCP refused). */
  primary: MariaServerTls;
  /** Server TLS of each replica, in order (none: plaintext replicas). */
  replicas?: MariaServerTls[];
  /** Replication over TLS: each replica verifies the primary's certificate and host name against this CA file. */
  replicationCa?: string;
  /** REQUIRE SSL or X509 on the replication account. */
  requireSsl?: 'SSL' | 'X509';
}

export const TOPOLOGY_DIR_PREFIX = 'vita-mariadb-';
const OWNER_FILE = 'owner.pid';
const REPLICATION_USER = 'vita_repl';

// The host `process`: under jest the global one is a sandbox copy whose 'exit' and signal listeners never fire.
const hostProcess = runInThisContext('process') as NodeJS.Process;
const REGISTRY = Symbol.for('vita.testing.liveTopologies');

/** Synchronous cleanups of live topologies, run on exit/SIGINT/SIGTERM/SIGHUP (one set per process). */
function liveTopologies(): Set<() => void> {
  const holder = hostProcess as unknown as Record<symbol, Set<() => void> | undefined>;
  const existing = holder[REGISTRY];
  if (existing) return existing;
  const live = new Set<() => void>();
  holder[REGISTRY] = live;
  const cleanAll = () => live.forEach((cleanup) => cleanup());
  hostProcess.on('exit', cleanAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      cleanAll();
      hostProcess.removeListener(sig, onSignal);
      // Nobody else handles it: die of the signal as if we had never listened.
      if (hostProcess.listenerCount(sig) === 0) hostProcess.kill(hostProcess.pid, sig);
    };
    hostProcess.on(sig, onSignal);
  }
  return live;
}

/** SIGKILLs the given pids and every mariadbd whose datadir is inside `dir`, waits (bounded) for them, removes `dir`. */
function destroySync(dir: string, pids: (number | undefined)[]): void {
  const all = [...new Set([...pids, ...findMariadbdPids(dir)])].filter((p): p is number => p !== undefined);
  all.forEach((pid) => sendSignal(pid, 'SIGKILL'));
  const deadline = Date.now() + 5_000;
  const tick = new Int32Array(new SharedArrayBuffer(4));
  while (all.some(pidAlive) && Date.now() < deadline) Atomics.wait(tick, 0, 0, 10);
  rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
}

/** Removes topology dirs (and their mariadbd processes) left by runs whose owner process is gone. */
export function sweepStaleTopologies(): string[] {
  const swept: string[] = [];
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(TOPOLOGY_DIR_PREFIX))) {
    const dir = join(tmpdir(), name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // not ours, or just being created
    }
    if (owner > 0 && pidAlive(owner)) continue;
    destroySync(dir, []);
    swept.push(dir);
  }
  return swept;
}

class Topology implements TestTopology {
  readonly replicationUser = REPLICATION_USER;
  private closing?: Promise<void>;

  constructor(
    readonly dir: string,
    readonly primary: MariaServer,
    readonly replicas: MariaServer[],
    private readonly cleanup: () => void,
  ) {}

  waitForReplica(replica: MariaServer, timeoutMs = 10_000): Promise<void> {
    return waitForReplicaCatchUp(replica, this.primary, timeoutMs);
  }

  async waitForReplicas(timeoutMs = 10_000): Promise<void> {
    await Promise.all(this.replicas.map((r) => this.waitForReplica(r, timeoutMs)));
  }

  close(): Promise<void> {
    this.closing ??= Promise.allSettled([this.primary, ...this.replicas].map((s) => s.kill())).then(() => this.cleanup());
    return this.closing;
  }
}

/**
 * Starts a GTID-replicating primary + N read-only replicas (in parallel) on free loopback ports,
 * in a temp dir under os.tmpdir() that is removed on close(), on process exit and on SIGINT/SIGTERM.
 */
export async function startTopology(opts: TopologyOptions = {}): Promise<TestTopology> {
  const binaries = findMariadbd();
  sweepStaleTopologies();
  const dir = mkdtempSync(join(tmpdir(), TOPOLOGY_DIR_PREFIX));
  writeFileSync(join(dir, OWNER_FILE), String(process.pid));
  const servers: MariaServer[] = [];
  const live = liveTopologies();
  const cleanup = () => {
    live.delete(cleanup);
    destroySync(dir, servers.map((s) => s.pid));
  };
  live.add(cleanup);
  try {
    const specs = [
      { name: 'primary', role: 'primary' as const },
      ...Array.from({ length: opts.replicas ?? 2 }, (_, i) => ({ name: `replica${i + 1}`, role: 'replica' as const })),
    ];
    servers.push(
      ...(await Promise.all(
        specs.map((s, i) =>
          MariaServer.create({
            ...s,
            serverId: i + 1,
            dataDir: join(dir, s.name),
            durable: false,
            keepProcessAlive: false,
            binaries,
            tls: i === 0 ? opts.tls?.primary : opts.tls?.replicas?.[i - 1],
          }),
        ),
      )),
    );
    await Promise.all(servers.map((s) => s.start()));
    const [primary, ...replicas] = servers;
    const password = randomBytes(18).toString('base64url');
    await createReplicationUser(primary, REPLICATION_USER, password, { requireSsl: opts.tls?.requireSsl });
    const tls = opts.tls?.replicationCa ? { ca: opts.tls.replicationCa } : undefined;
    await Promise.all(replicas.map((r) => configureReplica(r, primary, { user: REPLICATION_USER, password, connectRetrySeconds: 1, tls })));
    const topology = new Topology(dir, primary, replicas, cleanup);
    await topology.waitForReplicas();
    return topology;
  } catch (e) {
    await Promise.allSettled(servers.map((s) => s.kill()));
    cleanup();
    throw e;
  }
}
