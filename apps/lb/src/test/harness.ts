import type { LbStats } from '@vita/contracts';
import { sleep, waitFor as poll } from '@vita/mariadb';
import { freePort } from '@vita/testing';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { stringify } from 'yaml';
import { startLb, type RunningLb } from '../app/lb';

/*
 * Test harness: backends are real processes on loopback (backend-fixture.ts), lb runs in the test
 * process or from the built bundle. Every wait is bounded.
 */

const scratch = mkdtempSync(join(tmpdir(), 'vita-lb-test-'));
const children = new Set<ChildProcess>();
let fixture: string | undefined;

/** The backend program, transpiled once per test file. */
function fixtureScript(): string {
  if (fixture === undefined) {
    const source = readFileSync(join(__dirname, 'backend-fixture.ts'), 'utf8');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    fixture = join(scratch, 'backend-fixture.js');
    writeFileSync(fixture, js);
  }
  return fixture;
}

/** Fast checks so that state changes happen within a test's patience. */
export const FAST_CHECKS = { intervalMs: 200, timeoutMs: 200, rise: 2, fall: 2, jitter: 0 };

/** Polls `check` every 25 ms until it returns a value other than undefined; fails after `timeoutMs`. */
export const waitFor = <T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> =>
  poll(check, timeoutMs, () => new Error(`timed out after ${timeoutMs} ms waiting for ${what}`), 25);

export interface BackendOptions {
  dropReused?: boolean;
  keepAliveMs?: number;
  healthStatus?: number;
}

export interface FixtureStats {
  requests: number;
  checks: number;
  aborted: number;
  dropped: number;
  posts: number;
  openUpgrades: number;
  bigSent: number;
  paths: Record<string, number>;
}

/** A backend process; `kill` and `start` again keep its port. */
export class TestBackend {
  private child: ChildProcess | undefined;

  private constructor(
    readonly name: string,
    readonly port: number,
    private readonly options: BackendOptions,
  ) {}

  static async start(name: string, options: BackendOptions = {}): Promise<TestBackend> {
    const backend = new TestBackend(name, await freePort(), options);
    await backend.start();
    return backend;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [fixtureScript(), JSON.stringify({ name: this.name, port: this.port, ...this.options })], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`backend ${this.name} did not start within 10 s`)), 10_000);
      child.stdout?.once('data', () => (clearTimeout(timer), resolve()));
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`backend ${this.name} exited (${code})`))));
    });
  }

  /** SIGSTOP: the process hangs, its connections and listening socket open; SIGCONT: it goes on. */
  signal(signal: 'SIGSTOP' | 'SIGCONT'): void {
    this.child?.kill(signal);
  }

  /** SIGKILL: the process dies with its connections, as in a crash. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async stats(): Promise<FixtureStats> {
    const res = await fetch(`${this.url}/__stats`, { signal: AbortSignal.timeout(2000) });
    return (await res.json()) as FixtureStats;
  }
}

/** Kills every backend process a test file started and removes its scratch files. */
export async function cleanup(): Promise<void> {
  await Promise.all([...children].map((c) => new Promise((r) => (c.once('exit', r), c.kill('SIGKILL')))));
  rmSync(scratch, { recursive: true, force: true });
}

/** Where a test's lb listens, and its configuration file. */
export interface LbEndpoints {
  url: string;
  admin: string;
  port: number;
  configFile: string;
  /** Rewrites the configuration file (merged onto the test's base settings). */
  writeConfig(settings: Record<string, unknown>): void;
  stats(): Promise<LbStats>;
}

function endpoints(config: Awaited<ReturnType<typeof testConfig>>): LbEndpoints {
  const admin = `http://127.0.0.1:${config.adminPort}`;
  return {
    url: `http://127.0.0.1:${config.port}`,
    admin,
    port: config.port,
    configFile: config.file,
    writeConfig: config.write,
    stats: async () => (await (await fetch(`${admin}/stats`, { signal: AbortSignal.timeout(5000) })).json()) as LbStats,
  };
}

export interface TestLb extends LbEndpoints {
  lb: RunningLb;
  stop(): Promise<void>;
}

let configs = 0;

/** Writes a configuration for loopback ports (quiet logs, no access log unless given) to a file. */
export async function testConfig(settings: Record<string, unknown>): Promise<{ file: string; port: number; adminPort: number; write(s: Record<string, unknown>): void }> {
  const port = await freePort();
  const adminPort = await freePort();
  const file = join(scratch, `lb-${++configs}.yaml`);
  const write = (s: Record<string, unknown>) =>
    writeFileSync(file, stringify({ listen: `127.0.0.1:${port}`, admin: { listen: `127.0.0.1:${adminPort}` }, logLevel: 'silent', accessLog: { to: 'off' }, ...s }));
  write(settings);
  return { file, port, adminPort, write };
}

/** lb in this process, from a configuration file. */
export async function startTestLb(settings: Record<string, unknown>, env: Record<string, string> = {}): Promise<TestLb> {
  const config = await testConfig(settings);
  const lb = await startLb({ LB_CONFIG: config.file, ...env });
  return { ...endpoints(config), lb, stop: () => lb.stop() };
}

export const backendsOf = (...backends: TestBackend[]) => backends.map((b) => ({ name: b.name, url: b.url }));

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The client's local port: the same across requests means the same kept-alive connection. */
  localPort: number;
}

/** One HTTP request (bounded by `timeoutMs`), on a fresh connection unless an agent is given. */
export function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; agent?: Agent; timeoutMs?: number } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers, agent: init.agent ?? false, timeout: init.timeoutMs ?? 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), localPort: res.socket?.localPort ?? 0 }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(init.body);
  });
}

/**
 * Writes raw bytes on a fresh connection and collects what comes back until the server closes
 * the connection or `waitMs` passes.
 */
export function raw(port: number, ...parts: (string | { pauseMs: number })[]): Promise<{ text: string; closed: boolean }> {
  return rawFor(5000, port, ...parts);
}

export function rawFor(waitMs: number, port: number, ...parts: (string | { pauseMs: number })[]): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => done(false), waitMs);
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
    socket.once('connect', async () => {
      for (const part of parts) {
        if (typeof part === 'string') socket.write(part, 'latin1');
        else await sleep(part.pauseMs);
      }
    });
  });
}

/** Status code of the first response in raw response text (0 if none). */
export const statusOf = (text: string): number => Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);

export interface LbProcess extends LbEndpoints {
  child: ChildProcess;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string>;
  output(): string;
}

/** lb as its own process from the built bundle (`main.js` in `dir`), ready when /health/live answers. */
export async function startLbProcess(dir: string, settings: Record<string, unknown>, env: Record<string, string> = {}): Promise<LbProcess> {
  const config = await testConfig(settings);
  const lb = endpoints(config);
  const child = spawn(process.execPath, [join(dir, 'main.js')], { cwd: dir, env: { PATH: process.env['PATH'] ?? '', LB_CONFIG: config.file, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => (children.delete(child), resolve(code ?? signal ?? 'unknown'))));
  await waitFor('lb to start', async () => {
    if (child.exitCode !== null) throw new Error(`lb exited (${child.exitCode}):\n${output}`);
    return (await fetch(`${lb.admin}/health/live`).then((r) => r.status, () => 0)) === 200 ? true : undefined;
  }, 20_000);
  return { ...lb, child, exited, output: () => output };
}

/** A raw client connection, from `from` (any 127/8 address): what came back on it, and whether it was closed. */
export interface RawClient {
  socket: Socket;
  text: string;
  closed: boolean;
}

/** Opens a raw client connection (resolved once connected, or once it failed) and writes `send`, if any. */
export function openClient(port: number, from = '127.0.0.1', send?: string): Promise<RawClient> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: from });
    const client: RawClient = { socket, text: '', closed: false };
    socket.on('data', (d: Buffer) => (client.text += d.toString('latin1')));
    socket.on('close', () => (client.closed = true));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      if (send) socket.write(send);
      resolve(client);
    });
    socket.once('error', () => resolve(client));
  });
}

export const closeClients = (clients: RawClient[]): void => clients.forEach((c) => c.socket.destroy());
