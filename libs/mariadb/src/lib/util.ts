import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `intervalMs` until it returns a non-undefined value; throws `onTimeout()` after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  onTimeout: () => Error,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw onTimeout();
    await sleep(intervalMs);
  }
}

/** Where the ports handed out are reserved, for every process on the machine that uses this function. */
const RESERVED_DIR = join(tmpdir(), 'vita-test-ports');
/** A reservation older than this is stale (its process had all the time it needs to bind the port). */
const RESERVED_MS = 120_000;
/** Below the kernel's ephemeral range (32768–60999 by default): no port the OS hands out by itself. */
const PORTS = { from: 20_000, to: 32_000 };

/** Takes the reservation of `port` for this process: false when another process holds it. */
function reserve(port: number): boolean {
  const file = join(RESERVED_DIR, String(port));
  try {
    closeSync(openSync(file, 'wx'));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  try {
    if (Date.now() - statSync(file).mtimeMs < RESERVED_MS) return false;
    const now = new Date();
    utimesSync(file, now, now);
    return true;
  } catch {
    return false;
  }
}

/** Whether 127.0.0.1:port can be listened on right now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((done) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => done(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => done(true)));
  });
}

/**
 * A TCP port that is free on 127.0.0.1 right now, for a server started a moment later. Handed out
 * once per two minutes across every process on the machine that asks here (test runs side by side
 * never get the same port), and outside the kernel's ephemeral range, so that no client connection
 * or `listen(0)` elsewhere takes it in between.
 */
export async function nextFreePort(): Promise<number> {
  mkdirSync(RESERVED_DIR, { recursive: true });
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = PORTS.from + Math.floor(Math.random() * (PORTS.to - PORTS.from));
    if (reserve(port) && (await bindable(port))) return port;
  }
  throw new Error(`could not allocate a free port between ${PORTS.from} and ${PORTS.to}`);
}

/** True while a process with this pid exists (zombies count as gone). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

/** Sends a signal, ignoring "no such process". */
export function sendSignal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

/** Pids of live mariadbd processes whose --datadir is `dir` or lies under it (Linux /proc scan). */
export function findMariadbdPids(dir: string): number[] {
  const root = resolve(dir);
  const pids: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return pids;
  }
  for (const entry of entries) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const datadir = argv.find((a) => a.startsWith('--datadir='))?.slice('--datadir='.length);
    if (!/mariadbd|mysqld/.test(basename(argv[0] ?? '')) || !datadir) continue;
    const d = resolve(datadir);
    if (d === root || d.startsWith(root + '/')) pids.push(Number(entry));
  }
  return pids;
}

/** Last `lines` lines of a text file starting at byte `from` ('' when unreadable). */
export function tailFile(file: string, lines = 20, from = 0): string {
  try {
    const text = readFileSync(file).subarray(from).toString('utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
