import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Starts a TypeScript script under tools/ as a child (with the workspace aliases) and waits for its 'ready' message. */
export async function startScript(root: string, script: string, args: string[], timeoutMs = 30_000): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-r', join(root, 'tools', 'register.js'), join(root, script), ...args], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} not ready in ${timeoutMs} ms`)), timeoutMs);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code})`));
    });
  });
  return child;
}

/** Resident set size of a process in MiB, from /proc (Linux). */
export async function rssMiB(pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN;
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /VmRSS:\s+(\d+)\s+kB/.exec(status);
  return kb ? Number(kb[1]) / 1024 : NaN;
}

/** Sum of the RSS of several processes, in MiB. */
export const totalRss = async (pids: number[]): Promise<number> => (await Promise.all(pids.map(rssMiB))).reduce((a, b) => a + b, 0);

/** A process and its children (workers), from /proc (Linux). */
export function processTree(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return [pid, ...children.flatMap(processTree)];
}

/** CPU time of processes in clock ticks of 10 ms: in user space and in the kernel (system calls, TCP). */
export function cpuTicks(pids: number[]): { user: number; system: number } {
  return pids.reduce(
    (sum, pid) => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return { user: sum.user + Number(fields[11]), system: sum.system + Number(fields[12]) };
    },
    { user: 0, system: 0 },
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 100 ms until it holds; throws "`what` within N s" past the timeout. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

export interface CpuTime {
  /** µs in user space. */
  user: number;
  /** µs in the kernel. */
  system: number;
}

/**
 * CPU time per operation of each group of processes while `run` works (it returns how many
 * operations it did): unlike operations per second, hardly moved by other load on the machine.
 */
export function cpuPerOperation(groups: number[][], run: () => number): CpuTime[] {
  const before = groups.map(cpuTicks);
  const operations = run();
  return groups.map((pids, i) => {
    const after = cpuTicks(pids);
    return { user: ((after.user - before[i].user) * 10_000) / operations, system: ((after.system - before[i].system) * 10_000) / operations };
  });
}

/** `71.3 µs (user 30.1, kernel 41.2)`, the total padded to `width`. */
export const formatCpu = (c: CpuTime, width = 0): string => `${(c.user + c.system).toFixed(1).padStart(width)} µs (user ${c.user.toFixed(1)}, kernel ${c.system.toFixed(1)})`;
