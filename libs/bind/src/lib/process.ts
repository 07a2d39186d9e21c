import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { pidAlive, sendSignal, sleep } from '@vita/mariadb';

export { pidAlive, sendSignal, sleep };

const tcpFree = (address: string, port: number): Promise<number> =>
  new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', rej);
    srv.listen({ port, host: address, exclusive: true }, () => {
      const a = srv.address();
      const got = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => (got ? res(got) : rej(new Error('could not allocate a port'))));
    });
  });

const udpFree = (address: string, port: number): Promise<void> =>
  new Promise((res, rej) => {
    const sock = createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    sock.unref();
    sock.once('error', (e) => {
      sock.close();
      rej(e);
    });
    sock.bind(port, address, () => sock.close(() => res()));
  });

/** A port free for both TCP and UDP on `address` right now (DNS listens on both); a few tries, then an error. */
export async function freeDnsPort(address: string): Promise<number> {
  let last: unknown;
  for (let i = 0; i < 20; i++) {
    try {
      const port = await tcpFree(address, 0);
      await udpFree(address, port);
      return port;
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`no port free for TCP and UDP on ${address}: ${(last as Error).message}`);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with `input` on stdin, killed (SIGKILL) after `timeoutMs`; never throws for a non-zero exit. */
export function run(command: string[], input: string, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = command;
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined); // the program may exit before reading all of it
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (timedOut) reject(new Error(`${cmd} did not finish within ${timeoutMs} ms`));
      else resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

export const BIND_DIR_PREFIX = 'vita-bind-';
/** The file in a harness dir holding the pid of the node process that owns it. */
export const OWNER_FILE = 'owner.pid';

const readPid = (file: string): number | undefined => {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
};

/** True when `pid` is a named started with the named.conf of harness dir `dir`. */
function isNamedOf(pid: number, dir: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(join(dir, 'named.conf'));
  } catch {
    return false;
  }
}

/**
 * Removes harness dirs (`vita-bind-*` under `parent`, default os.tmpdir()) whose owner process is gone,
 * killing (SIGKILL) the named each one still runs. Returns the dirs removed.
 */
export function sweepStaleBind(parent: string = tmpdir()): string[] {
  const removed: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(parent).filter((e) => e.startsWith(BIND_DIR_PREFIX));
  } catch {
    return removed;
  }
  for (const e of entries) {
    const dir = join(parent, e);
    const owner = readPid(join(dir, OWNER_FILE));
    if (owner === undefined || owner === process.pid || pidAlive(owner)) continue;
    const named = readPid(join(dir, 'named.pid'));
    if (named !== undefined && pidAlive(named) && isNamedOf(named, dir)) sendSignal(named, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
