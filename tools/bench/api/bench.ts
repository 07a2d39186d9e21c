import { freePort, workspaceRoot } from '@vita/testing';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack } from '@vita/stack';
import { startScript } from '../lib/processes';
import { flag } from '../lib/args';
import { compare, requireWrk } from '../lib/wrk';

/**
 * GET /api/v1/resume on the api (document from the local replica, as `npm start` runs it, access
 * log on) beside a bare Fastify route returning the same JSON from memory, under the same load.
 * Usage: npm run bench:api [-- --rounds 3 --seconds 10 --connections 64]
 */
async function main(): Promise<void> {
  const rounds = flag('rounds', 3);
  const seconds = flag('seconds', 10);
  const connections = flag('connections', 64);
  requireWrk();
  const root = workspaceRoot();
  const home = mkdtempSync(join(tmpdir(), 'vita-bench-api-'));
  console.log('building the api…');
  if (spawnSync('npx', ['nx', 'run', 'api:build'], { cwd: root, stdio: 'ignore' }).status !== 0) throw new Error('api build failed');

  const [primaryPort, replicaPort, apiPort, barePort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const stack = await startStack({ root, home, primaryPort, replicaPort, apiPorts: [apiPort], build: false, say: (l) => console.log(`  ${l}`) });
  const apiUrl = `http://127.0.0.1:${apiPort}/api/v1/resume`;
  const jsonFile = join(home, 'resume.json');
  writeFileSync(jsonFile, await (await fetch(apiUrl)).text());
  const bare = await startScript(root, 'tools/bench/api/bare-server.ts', [jsonFile, String(barePort)]);
  try {
    console.log(`\nGET /api/v1/resume: ${connections} connections, keep-alive, ${rounds} rounds of ${seconds} s\n`);
    const [bareFastify, api] = compare(
      [
        { name: 'bare Fastify (from memory)', url: `http://127.0.0.1:${barePort}/api/v1/resume` },
        { name: 'api (replica, access log)', url: apiUrl },
      ],
      rounds,
      { connections, seconds },
    );
    console.log(`\napi / bare Fastify: ${((api.requestsPerSecond / bareFastify.requestsPerSecond) * 100).toFixed(0)}% (target ≥ 50%)`);
  } finally {
    bare.kill('SIGTERM');
    await stack.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
