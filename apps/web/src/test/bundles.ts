import { startTopology, TestTopology, workspaceRoot } from '@vita/testing';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const secret = (): string => randomBytes(18).toString('base64url');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A built service (dist/apps/<app>/main.js) run as a process on loopback, its output in a log file. */
export class BundleProcess {
  readonly url: string;
  private child?: ChildProcess;

  constructor(
    readonly app: 'api' | 'web',
    readonly port: number,
    private readonly env: Record<string, string>,
    readonly logFile: string,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns it and waits (bounded) until /health/ready answers 200. */
  async start(timeoutMs = 30_000): Promise<void> {
    const fd = openSync(this.logFile, 'a');
    this.child = spawn(process.execPath, [join(workspaceRoot(), 'dist', 'apps', this.app, 'main.js')], {
      env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: String(this.port), LOG_LEVEL: 'warn', ...this.env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.running) {
      const status = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
      if (status === 200) return;
      await sleep(100);
    }
    await this.stop();
    throw new Error(`${this.app} on ${this.url} not ready within ${timeoutMs} ms:\n${readFileSync(this.logFile, 'utf8').split('\n').slice(-10).join('\n')}`);
  }

  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.child?.kill(signal);
  }

  /** SIGCONT (it may be stopped), SIGTERM, SIGKILL after `timeoutMs`; waits for the exit. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.child && this.running) await stopChild(this.child, timeoutMs);
  }
}

/** Stops a running child process: SIGCONT (it may be stopped), SIGTERM, SIGKILL after `timeoutMs`; waits for the exit. */
export async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** A primary and a replica provisioned and migrated by the api bundle's own commands, as `npm start` does. */
export interface Databases {
  topology: TestTopology;
  /** The api's database settings for this topology. */
  apiEnv: Record<string, string>;
  adminToken: string;
}

function runApiCommand(script: string, env: Record<string, string>): void {
  const run = spawnSync(process.execPath, [join(workspaceRoot(), 'dist', 'apps', 'api', script)], { env: { PATH: process.env['PATH'] ?? '', ...env }, encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`api ${script} failed: ${(run.stderr || run.stdout || String(run.error)).trim()}`);
}

export async function startDatabases(): Promise<Databases> {
  const topology = await startTopology({ replicas: 1 });
  try {
    const { primary, replicas } = topology;
    const logins = { DB_READ_USER: 'vita_reader', DB_READ_PASSWORD: secret(), DB_WRITE_USER: 'vita_writer', DB_WRITE_PASSWORD: secret() };
    const migrator = { DB_MIGRATE_USER: 'vita_migrator', DB_MIGRATE_PASSWORD: secret() };
    const base = { DB_NAME: 'vita', DB_WRITE_HOST: `${primary.host}:${primary.port}`, ...logins };
    runApiCommand('provision.js', { ...base, ...migrator, DB_ADMIN_SOCKET: primary.socketPath, DB_USER_HOST: '127.0.0.1' });
    runApiCommand('migrate.js', { ...base, ...migrator });
    await topology.waitForReplicas();
    const reads = `replica@${replicas[0].host}:${replicas[0].port},primary@${primary.host}:${primary.port}`;
    const adminToken = secret();
    return { topology, adminToken, apiEnv: { ...base, DB_READ_HOSTS: reads, VITA_ADMIN_TOKEN: adminToken, DB_TIMEOUT_MS: '1000' } };
  } catch (err) {
    await topology.close();
    throw err;
  }
}

/** PUT a document through an api; returns the new version. */
export async function putResume(apiUrl: string, token: string, document: object): Promise<number> {
  const res = await fetch(`${apiUrl}/api/v1/resume`, {
    method: 'PUT',
    body: JSON.stringify(document),
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { version?: number; message?: string };
  if (res.status !== 200 || body.version === undefined) throw new Error(`PUT answered ${res.status}: ${body.message ?? ''}`);
  return body.version;
}

/** Polls `probe` until it returns true, at most `timeoutMs`; returns how long it took. */
export async function within(timeoutMs: number, what: string, probe: () => Promise<boolean> | boolean, everyMs = 10): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await probe()) return Date.now() - started;
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}
