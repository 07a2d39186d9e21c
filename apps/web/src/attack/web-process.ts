import { workspaceRoot } from '@vita/testing';
import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stopChild } from '../test/bundles';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The built web bundle as a process on loopback, run from `cwd` (where it also looks for themes). */
export class WebProcess {
  readonly url: string;
  child?: ChildProcess;
  exit?: { code: number | null; signal: string | null };

  constructor(readonly port: number, private readonly env: Record<string, string>, readonly logFile: string, private readonly cwd: string) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.exit === undefined;
  }

  log(): string {
    return readFileSync(this.logFile, 'utf8');
  }

  spawn(): void {
    const fd = openSync(this.logFile, 'a');
    this.child = spawn(process.execPath, [join(workspaceRoot(), 'dist', 'apps', 'web', 'main.js')], {
      cwd: this.cwd,
      env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: String(this.port), LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', fd, fd],
    });
    closeSync(fd);
    this.child.once('exit', (code, signal) => (this.exit = { code, signal }));
  }

  /** Spawns it and waits (bounded) for /health/ready 200; false when it did not get there (still starting, or exited). */
  async start(timeoutMs = 30_000): Promise<boolean> {
    this.spawn();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && this.running) {
      const status = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2000) }).then((r) => r.status, () => 0);
      if (status === 200) return true;
      await sleep(100);
    }
    return false;
  }

  /** SIGTERM, SIGKILL after `timeoutMs`; waits for the exit. */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.child && this.running) await stopChild(this.child, timeoutMs);
  }
}

/** fetch with a time limit: the status and text, or 'timeout' (a request that never got an answer). */
export async function timedGet(url: string, ms: number, headers: Record<string, string> = {}): Promise<{ status: number | 'timeout'; text: string; headers: Headers | undefined; ms: number }> {
  const started = Date.now();
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(ms) });
    return { status: res.status, text: await res.text(), headers: res.headers, ms: Date.now() - started };
  } catch {
    return { status: 'timeout', text: '', headers: undefined, ms: Date.now() - started };
  }
}
