import { sleep } from '@vita/mariadb';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { workspaceRoot } from '@vita/testing';
import { cleanup, FAST_CHECKS, startLbProcess, TestBackend, waitFor } from '../../test/harness';

const dist = join(workspaceRoot(), 'dist', 'apps', 'lb');

/** What the topology can hand lb: one node registered with a URL the api accepts but no URL parser does. */
describe('peers.url answers that lb must survive (the built bundle)', () => {
  let topology: Server;
  let body = '';
  beforeAll(() => {
    if (!existsSync(join(dist, 'main.js'))) throw new Error(`${dist} has no bundle: run \`npx nx build lb\``);
  });
  afterAll(async () => {
    await new Promise((r) => topology?.close(r));
    await cleanup();
  });

  it('a peer at port 99999 does not stop lb, and the other peers are still learned', async () => {
    topology = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(body));
    await new Promise<void>((r) => topology.listen(0, '127.0.0.1', r));
    const peersUrl = `http://127.0.0.1:${(topology.address() as AddressInfo).port}/api/v1/sites/peers`;
    const [a1, b1] = await Promise.all([TestBackend.start('a1'), TestBackend.start('b1')]);
    const lbB = await startLbProcess(dist, { healthCheck: FAST_CHECKS, slowStartMs: 0, nodeName: 'node-b', backends: [{ name: 'b1', url: b1.url }] });
    body = JSON.stringify({ peers: [] });
    const lbA = await startLbProcess(dist, { healthCheck: FAST_CHECKS, slowStartMs: 0, logLevel: 'warn', nodeName: 'node-a', backends: [{ name: 'a1', url: a1.url }] }, { LB_PEERS_URL: peersUrl, LB_PEERS_INTERVAL_MS: '200' });

    // PUT /api/v1/sites/nodes/node-x with peerUrl https://127.0.0.1:99999 passes the api's validation.
    body = JSON.stringify({ peers: [{ name: 'node-b', url: lbB.url }, { name: 'node-x', url: 'https://127.0.0.1:99999' }] });
    await sleep(1500);
    expect({ alive: lbA.child.exitCode === null, output: lbA.child.exitCode === null ? '' : lbA.output().slice(-600) }).toEqual({ alive: true, output: '' });
    await waitFor('node-b learned', async () => ((await lbA.stats()).backends.some((b) => b.name === 'node-b') ? true : undefined), 5000);
  }, 60_000);
});
