import { ChildProcess, spawn } from 'node:child_process';
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
