import { sleep } from '@vita/mariadb';
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

/** How a request is made: global fetch, or a request from inside another host's network namespace. */
export type HttpFetch = (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<Response>;

/** Where a service runs: the address it listens on (default 127.0.0.1), its network namespace (`ip netns exec`, root only), and how its health is asked for from there. */
export interface ServiceWhere {
  host?: string;
  netns?: string;
  /** Default: global fetch (from this process's own namespace). */
  fetch?: HttpFetch;
}

/** One Vita service process (a built bundle under dist/), its log file, and how to tell it is up. */
export class Service {
  readonly url: string;
  private readonly healthUrl: string;
  private child?: ChildProcess;
  private stopping = false;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly script: string,
    private readonly env: Record<string, string>,
    readonly logFile: string,
    private readonly onUnexpectedExit: (service: Service, how: string) => void,
    /** Where its health endpoints answer, when not on `port` (lb's admin port). */
    healthUrl?: string,
    readonly where: ServiceWhere = {},
  ) {
    this.url = `http://${where.host ?? '127.0.0.1'}:${port}`;
    this.healthUrl = healthUrl ?? this.url;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the process and waits (bounded) until `readyPath` answers 200. */
  async start(readyPath = '/health/ready', timeoutMs = 60_000): Promise<void> {
    this.stopping = false;
    const fd = openSync(this.logFile, 'a');
    // `ip netns exec` execs node in place: the child's pid is the service's.
    const [command, args] = this.where.netns ? ['ip', ['netns', 'exec', this.where.netns, process.execPath, this.script]] : [process.execPath, [this.script]];
    const child = spawn(command, args, { env: { PATH: process.env['PATH'] ?? '', ...this.env }, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.child = child;
    child.once('exit', (code, signal) => {
      if (!this.stopping) this.onUnexpectedExit(this, String(signal ?? code));
    });
    const deadline = Date.now() + timeoutMs;
    const ask = this.where.fetch ?? fetch;
    while (Date.now() < deadline && this.running) {
      const status = await ask(`${this.healthUrl}${readyPath}`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
      if (status === 200) return;
      await sleep(200);
    }
    await this.kill();
    const tail = readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-10).join('\n');
    throw new Error(`${this.name} (${this.healthUrl}${readyPath}) did not become ready within ${timeoutMs / 1000} s; last lines of ${this.logFile}:\n${tail}`);
  }

  /** SIGTERM (the service drains and exits), SIGKILL after `timeoutMs`. */
  stop(timeoutMs = 15_000): Promise<void> {
    return this.end('SIGTERM', timeoutMs);
  }

  kill(): Promise<void> {
    return this.end('SIGKILL', 5_000);
  }

  private async end(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    this.stopping = true;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
