import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { nextFreePort } from './util';

const root = join(__dirname, '..', '..', '..', '..');

/** Ports asked for by another process at the same time (as a second test run side by side does). */
function portsFromAnotherProcess(count: number): Promise<number[]> {
  const script = `const { nextFreePort } = require('./libs/mariadb/src/lib/util.ts');
(async () => { const ports = []; for (let i = 0; i < ${count}; i++) ports.push(await nextFreePort()); console.log(JSON.stringify(ports)); })();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', './tools/register.js', '-e', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop() ?? '[]')) : reject(new Error(`exit ${code}`))));
  });
}

describe('nextFreePort', () => {
  it('hands out bindable ports below the ephemeral range, never the same one twice, even to two processes at once', async () => {
    const other = portsFromAnotherProcess(150);
    const mine: number[] = [];
    for (let i = 0; i < 150; i++) mine.push(await nextFreePort());
    const theirs = await other;
    expect(theirs).toHaveLength(150);
    const all = [...mine, ...theirs];
    expect(new Set(all).size).toBe(all.length);
    for (const port of all) expect(port >= 20_000 && port < 32_000).toBe(true);
    const port = await nextFreePort();
    await new Promise<void>((resolve, reject) => {
      const srv = createServer().once('error', reject);
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
    });
  }, 60_000);
});
