import { ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createConnection } from 'mariadb';
import { findMariadbd, INNODB_FILE_ARGS, MariadbBinaries, templateDataDir } from './install';
import { nextFreePort, sendSignal, tailFile, waitFor } from './util';

export interface MariaServerOptions {
  name: string;
  /** Created from a cached template if missing/empty; kept as-is if already initialised. */
  dataDir: string;
  /** 0 or undefined: pick a free loopback port. */
  port?: number;
  serverId: number;
  role: 'primary' | 'replica';
  /** mariadbd error log; default `<runDir>/error.log`. */
  logFile?: string;
  /** Private (0700) dir for the socket and pid file; default `<dirname(dataDir)>/run/<name>`. */
  runDir?: string;
  /** true (default): fsync on every commit. false: fast, crash-unsafe settings for tests. */
  durable?: boolean;
  /** Bound on start() (default 30 s). */
  startTimeoutMs?: number;
  /** false: the mariadbd child does not keep the node event loop alive (tests). Default true. */
  keepProcessAlive?: boolean;
  /** Appended to the mariadbd command line. */
  extraArgs?: string[];
  /** The address it listens on and other hosts reach it at (default 127.0.0.1). */
  bindAddress?: string;
  /** Run inside this network namespace (`ip netns exec`, root only); the admin socket is a file, so it still works from here. */
  netns?: string;
  /** Server TLS: `--ssl-ca`, `--ssl-cert`, `--ssl-key` (PEM files); `requireSecureTransport` refuses plaintext TCP (the unix socket counts as secure). */
  tls?: MariaServerTls;
  binaries?: MariadbBinaries;
}

export interface MariaServerTls {
  /** CA certificate(s) the server trusts for client certificates (REQUIRE X509). */
  ca: string;
  cert: string;
  key: string;
  /** `--require-secure-transport=ON`: every TCP connection must use TLS (default false). */
  requireSecureTransport?: boolean;
}

/** mariadbd options of a TLS setting (none without it). */
export function tlsArgs(tls: MariaServerTls | undefined): string[] {
  if (!tls) return [];
  const args = [`--ssl-ca=${resolve(tls.ca)}`, `--ssl-cert=${resolve(tls.cert)}`, `--ssl-key=${resolve(tls.key)}`];
  return tls.requireSecureTransport ? [...args, '--require-secure-transport=ON'] : args;
}

/** What mariadbd's command line is made of (`mariadbdArguments`). */
export interface MariadbdArgumentOptions {
  dataDir: string;
  /** The admin socket (root, no password): its folder must be private (0700). */
  socketPath: string;
  pidFile: string;
  logFile: string;
  port: number;
  bindAddress: string;
  serverId: number;
  role: 'primary' | 'replica';
  /** true (default): fsync on every commit. false: fast, crash-unsafe settings for tests. */
  durable?: boolean;
  tls?: MariaServerTls;
  /** Run as root (`--user=root`): mariadbd refuses to start as root without it. */
  asRoot?: boolean;
  /** Appended last. */
  extraArgs?: string[];
}

/**
 * mariadbd's options (without the program) for one Vita server: GTID row-based replication with the
 * binlog on every server, `read_only` on replicas, small caches, TLS when given. Pure.
 */
export function mariadbdArguments(o: MariadbdArgumentOptions): string[] {
  const durability = o.durable === false
    ? ['--innodb-flush-log-at-trx-commit=2', '--sync-binlog=0', '--innodb-doublewrite=0']
    : ['--innodb-flush-log-at-trx-commit=1', '--sync-binlog=1'];
  return [
    '--no-defaults',
    `--datadir=${o.dataDir}`,
    `--socket=${o.socketPath}`,
    `--pid-file=${o.pidFile}`,
    `--log-error=${o.logFile}`,
    `--port=${o.port}`,
    `--bind-address=${o.bindAddress}`,
    '--skip-name-resolve',
    `--server-id=${o.serverId}`,
    '--log-bin=mysql-bin',
    '--relay-log=relay-bin',
    '--binlog-format=ROW',
    '--binlog-expire-logs-seconds=604800',
    '--gtid-strict-mode=1',
    '--log-slave-updates=1',
    `--read-only=${o.role === 'replica' ? 1 : 0}`,
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    '--performance-schema=0',
    '--innodb-buffer-pool-size=32M',
    '--innodb-temp-data-file-path=ibtmp1:4M:autoextend',
    '--key-buffer-size=1M',
    '--aria-pagecache-buffer-size=8M',
    '--table-open-cache=400',
    '--max-connections=200',
    ...INNODB_FILE_ARGS,
    ...durability,
    ...tlsArgs(o.tls),
    ...(o.asRoot ? ['--user=root'] : []),
    ...(o.extraArgs ?? []),
  ];
}

export interface QueryOptions {
  /** Socket inactivity timeout once connected (default 30 s). */
  timeoutMs?: number;
  /** Connect + handshake timeout (default 5 s). */
  connectTimeoutMs?: number;
}

const TEMPLATE_MARKER = '.vita-template-complete';
const isRoot = () => process.getuid?.() === 0;

/** One mariadbd process bound to one address (default 127.0.0.1), administered as root over its private unix socket. */
export class MariaServer {
  readonly host: string;
  readonly name: string;
  readonly serverId: number;
  readonly role: 'primary' | 'replica';
  readonly dataDir: string;
  readonly runDir: string;
  readonly socketPath: string;
  readonly logFile: string;
  port: number;
  private child?: ChildProcess;
  private exited: Promise<void> = Promise.resolve();
  private everStarted = false;

  private constructor(
    private readonly opts: MariaServerOptions,
    private readonly bins: MariadbBinaries,
    port: number,
  ) {
    this.name = opts.name;
    this.serverId = opts.serverId;
    this.role = opts.role;
    this.port = port;
    this.host = opts.bindAddress ?? '127.0.0.1';
    this.dataDir = resolve(opts.dataDir);
    this.runDir = resolve(opts.runDir ?? join(dirname(this.dataDir), 'run', opts.name));
    this.logFile = resolve(opts.logFile ?? join(this.runDir, 'error.log'));
    const sock = join(this.runDir, 'mysqld.sock');
    // sun_path is limited to 108 bytes: fall back to a short private dir keyed by the data dir.
    this.socketPath =
      sock.length < 100 ? sock : join(tmpdir(), `vita-mdb-sock-${createHash('sha1').update(this.dataDir).digest('hex').slice(0, 12)}`, 'mysqld.sock');
  }

  /** Initialises the data dir if needed (copy of the cached template); does not start. */
  static async create(opts: MariaServerOptions): Promise<MariaServer> {
    const bins = opts.binaries ?? findMariadbd();
    const dataDir = resolve(opts.dataDir);
    if (!existsSync(join(dataDir, 'mysql'))) {
      if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
        throw new Error(`mariadb ${opts.name}: ${dataDir} is neither empty nor a MariaDB data directory`);
      }
      cpSync(await templateDataDir(bins), dataDir, { recursive: true, filter: (src) => basename(src) !== TEMPLATE_MARKER });
    }
    return new MariaServer(opts, bins, opts.port || (await nextFreePort()));
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private args(): string[] {
    return mariadbdArguments({
      dataDir: this.dataDir,
      socketPath: this.socketPath,
      pidFile: join(this.runDir, 'mariadbd.pid'),
      logFile: this.logFile,
      port: this.port,
      bindAddress: this.host,
      serverId: this.serverId,
      role: this.role,
      durable: this.opts.durable,
      tls: this.opts.tls,
      asRoot: isRoot(),
      extraArgs: this.opts.extraArgs,
    });
  }

  /** Spawns mariadbd and waits (bounded) until it accepts connections on its socket. */
  async start(): Promise<void> {
    if (this.running) return;
    for (const dir of [this.runDir, dirname(this.socketPath)]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700); // the root socket needs no password: only the owner may reach it
    }
    mkdirSync(dirname(this.logFile), { recursive: true });
    const timeoutMs = this.opts.startTimeoutMs ?? 30_000;
    for (let attempt = 1; ; attempt++) {
      const logStart = existsSync(this.logFile) ? statSync(this.logFile).size : 0;
      // `ip netns exec` execs mariadbd in place: the child's pid is mariadbd's.
      const [command, args] = this.opts.netns ? ['ip', ['netns', 'exec', this.opts.netns, this.bins.mariadbd, ...this.args()]] : [this.bins.mariadbd, this.args()];
      const child = spawn(command, args, { stdio: 'ignore' });
      this.child = child;
      if (this.opts.keepProcessAlive === false) child.unref();
      this.exited = new Promise((done) => {
        const gone = () => {
          if (this.child === child) this.child = undefined;
          done();
        };
        child.once('exit', gone);
        child.once('error', gone);
      });
      try {
        await waitFor(
          async () => {
            if (this.child !== child) throw new Error('mariadbd exited during startup');
            return (await this.ping()) || undefined;
          },
          timeoutMs,
          () => new Error(`mariadbd not ready within ${timeoutMs} ms`),
        );
        this.everStarted = true;
        return;
      } catch (e) {
        await this.kill();
        const tail = tailFile(this.logFile, 20, logStart);
        // An auto-picked port can be taken between picking and binding: pick another one (first start only).
        if (!this.opts.port && !this.everStarted && attempt < 3 && /Bind on TCP\/IP port|Address already in use/.test(tail)) {
          this.port = await nextFreePort();
          continue;
        }
        throw new Error(`mariadb ${this.name} failed to start (port ${this.port}): ${(e as Error).message}; last lines of ${this.logFile}:\n${tail}`);
      }
    }
  }

  private async ping(): Promise<boolean> {
    if (!existsSync(this.socketPath)) return false;
    try {
      await this.query('SELECT 1', undefined, { connectTimeoutMs: 1000, timeoutMs: 2000 });
      return true;
    } catch {
      return false;
    }
  }

  private async waitExit(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    try {
      return await Promise.race([this.exited.then(() => true as const), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Clean shutdown (SIGTERM), bounded; SIGKILL if it does not exit in time. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.running) return;
    this.resume();
    sendSignal(this.pid, 'SIGTERM');
    if (!(await this.waitExit(timeoutMs))) await this.kill();
  }

  /** SIGKILL and wait for the process to be gone. */
  async kill(): Promise<void> {
    const pid = this.pid;
    if (!this.running) return;
    sendSignal(pid, 'SIGKILL');
    if (!(await this.waitExit(10_000))) throw new Error(`mariadb ${this.name}: pid ${pid} still alive 10 s after SIGKILL`);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** SIGSTOP: the process stays alive but answers nothing. */
  pause(): void {
    sendSignal(this.pid, 'SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    sendSignal(this.pid, 'SIGCONT');
  }

  /** Runs one statement as root over the unix socket on a fresh connection (bounded connect and socket timeouts). */
  async query<T = unknown>(sql: string, params?: unknown[], opts: QueryOptions = {}): Promise<T> {
    const conn = await createConnection({
      socketPath: this.socketPath,
      user: 'root',
      connectTimeout: opts.connectTimeoutMs ?? 5_000,
      socketTimeout: opts.timeoutMs ?? 30_000,
      logParam: false,
      bigIntAsNumber: true,
      insertIdAsNumber: true,
      checkDuplicate: false,
    });
    let result: T;
    try {
      result = await conn.query<T>(sql, params);
    } catch (e) {
      conn.destroy();
      throw e;
    }
    await conn.end().catch(() => conn.destroy());
    return result;
  }
}
