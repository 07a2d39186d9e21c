import type { LbBackendStats } from '@vita/contracts';
import { sleep } from '@vita/mariadb';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, workspaceRoot } from '@vita/testing';
import { cleanup, FAST_CHECKS, type LbProcess, raw, rawFor, send, startLbProcess, statusOf, TestBackend, waitFor } from '../../test/harness';

/*
 * Content nodes backing each other up, as real processes on loopback: each node is an lb (the built
 * bundle) with its own backends; another node's lb is its backup.
 */

const dist = join(workspaceRoot(), 'dist', 'apps', 'lb');
const quiet = { healthCheck: FAST_CHECKS, slowStartMs: 0 };
const UPGRADE = 'GET /ws HTTP/1.1\r\nHost: lb\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
/** The head of the answer to a WebSocket upgrade (the tunnel is left after 500 ms). */
const upgrade = async (port: number) => (await rawFor(500, port, UPGRADE)).text.split('\r\n\r\n')[0];

/** A backup entry for another node's lb. */
const backup = (name: string, lb: LbProcess | string) => ({ name, url: typeof lb === 'string' ? lb : lb.url });
const server = async (lb: LbProcess, name: string): Promise<LbBackendStats | undefined> => (await lb.stats()).backends.find((b) => b.name === name);
const statusIs = (lb: LbProcess, name: string, status: string, timeoutMs = 10_000) =>
  waitFor(`${name} to be ${status} on ${lb.url}`, async () => ((await server(lb, name))?.status === status ? true : undefined), timeoutMs);
/** Sends `n` requests one after the other, each on a fresh connection, and times the slowest. */
const burst = async (url: string, n: number, headers: Record<string, string> = {}) => {
  let slowest = 0;
  const replies = [];
  for (let i = 0; i < n; i++) {
    const started = Date.now();
    replies.push(await send(url, { headers, timeoutMs: 5000 }));
    slowest = Math.max(slowest, Date.now() - started);
  }
  return { replies, slowest, statuses: [...new Set(replies.map((r) => r.status))], nodes: [...new Set(replies.map((r) => r.headers['x-vita-node']))] };
};

describe('backups: other nodes’ lbs (the built bundle, real processes on loopback)', () => {
  beforeAll(() => {
    if (!existsSync(join(dist, 'main.js'))) throw new Error(`${dist} has no bundle: run \`npx nx build lb\``);
  });
  afterAll(cleanup);

  describe('node A with node B as its backup', () => {
    let a1: TestBackend;
    let b1: TestBackend;
    let lbA: LbProcess;
    let lbB: LbProcess;

    beforeAll(async () => {
      [a1, b1] = await Promise.all([TestBackend.start('a1'), TestBackend.start('b1')]);
      lbB = await startLbProcess(dist, { ...quiet, nodeName: 'node-b', backends: [{ name: 'b1', url: b1.url }] });
      lbA = await startLbProcess(dist, { ...quiet, nodeName: 'node-a', backends: [{ name: 'a1', url: a1.url }], backups: [backup('node-b', lbB)] });
      await statusIs(lbA, 'node-b', 'UP');
    }, 60_000);

    it('leaves the backup alone while a local backend is UP; every answer names node A, whatever the backend says', async () => {
      const before = (await b1.stats()).requests;
      const { replies, nodes } = await burst(`${lbA.url}/local`, 20);
      expect(replies.every((r) => r.status === 200 && r.headers['x-backend'] === 'a1')).toBe(true);
      expect(nodes).toEqual(['node-a']);
      const claimed = await send(`${lbA.url}/claims-node`);
      expect([claimed.status, claimed.headers['x-vita-node']]).toEqual([200, 'node-a']);
      const head = await upgrade(lbA.port);
      expect(head).toMatch(/^HTTP\/1\.1 101 /);
      expect(head).toMatch(/\r\nx-vita-node: node-a(\r\n|$)/i);
      expect(head).toMatch(/\r\nx-backend: a1(\r\n|$)/i);
      expect((await b1.stats()).requests).toBe(before);
      const stats = await lbA.stats();
      expect(stats.backends.map((b) => [b.name, b.backup, b.status])).toEqual([['a1', false, 'UP'], ['node-b', true, 'UP']]);
      expect(stats.backends[1].total).toBe(0);
      const metrics = await (await fetch(`${lbA.admin}/metrics`)).text();
      expect(metrics).toMatch(/^lb_server_backup\{server="node-b"\} 1$/m);
      expect(metrics).toMatch(/^lb_backend_backup_servers 1$/m);
      // lb's own answers name the node too.
      const refused = await raw(lbA.port, 'GET http://elsewhere/ HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(statusOf(refused.text)).toBe(400);
      expect(refused.text).toMatch(/\r\nX-Vita-Node: node-a\r\n/);
    });

    it('all local backends down: node B answers, says so, and learns who sent the request', async () => {
      await a1.kill();
      await statusIs(lbA, 'a1', 'DOWN');
      const { replies, nodes, statuses } = await burst(`${lbA.url}/echo`, 10);
      expect(statuses).toEqual([200]);
      expect(nodes).toEqual(['node-b']);
      const echoed = JSON.parse(replies[0].body) as { backend: string; headers: Record<string, string> };
      expect(echoed.backend).toBe('b1');
      expect(echoed.headers['x-vita-forwarded-by']).toBe('node-a');
      expect((await server(lbA, 'node-b'))?.total).toBe(10);
      // A backup's answer keeps the node it names; an upgrade goes there too.
      expect((await send(`${lbA.url}/claims-node`)).headers['x-vita-node']).toBe('node-b');
      const head = await upgrade(lbA.port);
      expect(head).toMatch(/^HTTP\/1\.1 101 /);
      expect(head).toMatch(/\r\nx-vita-node: node-b(\r\n|$)/i);
      expect(head).toMatch(/\r\nx-backend: b1(\r\n|$)/i);
    });

    it('a local backend that recovers takes the traffic back after `rise` checks', async () => {
      await a1.start();
      await statusIs(lbA, 'a1', 'UP');
      const forwarded = (await server(lbA, 'node-b'))?.total;
      const { nodes, replies } = await burst(`${lbA.url}/back`, 10);
      expect(nodes).toEqual(['node-a']);
      expect(replies.every((r) => r.headers['x-backend'] === 'a1')).toBe(true);
      expect((await server(lbA, 'node-b'))?.total).toBe(forwarded);
    });

    it('a request another node’s lb sent never goes on to a backup: a prompt 503 naming this node', async () => {
      await a1.kill();
      await statusIs(lbA, 'a1', 'DOWN');
      const forwarded = (await server(lbA, 'node-b'))?.total;
      const { statuses, nodes, slowest, replies } = await burst(`${lbA.url}/from-a-peer`, 5, { 'X-Vita-Forwarded-By': 'node-z' });
      expect(statuses).toEqual([503]);
      expect(nodes).toEqual(['node-a']);
      expect(replies[0].body).toMatch(/no backend is available/);
      expect(slowest).toBeLessThan(1000);
      expect((await server(lbA, 'node-b'))?.total).toBe(forwarded);
    });

    it('the backup down too: a prompt 503, not a hang', async () => {
      lbB.child.kill('SIGKILL');
      await lbB.exited;
      await statusIs(lbA, 'node-b', 'DOWN');
      expect((await server(lbA, 'node-b'))?.lastChangeReason).toMatch(/check failed: ECONNREFUSED/);
      const { statuses, nodes, slowest } = await burst(`${lbA.url}/nobody`, 5);
      expect(statuses).toEqual([503]);
      expect(nodes).toEqual(['node-a']);
      expect(slowest).toBeLessThan(1000);
    });
  });

  describe('two nodes that are each other’s backup, every local backend down', () => {
    it('both answer 503 promptly, and each request crosses to the other node once at most (no ping-pong)', async () => {
      // Checks every 20 s (one at start): the backups stay UP while passive checks take the locals
      // out, so every request finds a backup UP on both sides, the case a loop would need.
      const slow = { healthCheck: { intervalMs: 20_000, timeoutMs: 1000, rise: 1, fall: 1, jitter: 0 }, passive: { maxFailures: 1, on5xx: false }, slowStartMs: 0 };
      const [a1, b1] = await Promise.all([TestBackend.start('a1'), TestBackend.start('b1')]);
      const lbB = await startLbProcess(dist, { ...slow, nodeName: 'node-b', backends: [{ name: 'b1', url: b1.url }] });
      const lbA = await startLbProcess(dist, { ...slow, nodeName: 'node-a', backends: [{ name: 'a1', url: a1.url }], backups: [backup('node-b', lbB)] });
      lbB.writeConfig({ ...slow, nodeName: 'node-b', backends: [{ name: 'b1', url: b1.url }], backups: [backup('node-a', lbA)] });
      lbB.child.kill('SIGHUP');
      await Promise.all([statusIs(lbA, 'node-b', 'UP'), statusIs(lbB, 'node-a', 'UP')]);

      await Promise.all([a1.kill(), b1.kill()]);
      // One request each takes the local backend out (its connection refused, passive check).
      await send(`${lbA.url}/warm`);
      await send(`${lbB.url}/warm`);
      await Promise.all([statusIs(lbA, 'a1', 'DOWN'), statusIs(lbB, 'b1', 'DOWN')]);
      expect([(await server(lbA, 'node-b'))?.status, (await server(lbB, 'node-a'))?.status]).toEqual(['UP', 'UP']);

      const before = await Promise.all([lbA.stats(), lbB.stats()]);
      const n = 20;
      const [toA, toB] = await Promise.all([burst(`${lbA.url}/loop`, n), burst(`${lbB.url}/loop`, n)]);
      const after = await Promise.all([lbA.stats(), lbB.stats()]);
      // The other node answered each (its lb's own 503: no local backend, and never back to a backup).
      expect([toA.statuses, toA.nodes, toB.statuses, toB.nodes]).toEqual([[503], ['node-b'], [503], ['node-a']]);
      expect(Math.max(toA.slowest, toB.slowest)).toBeLessThan(1000);
      const sent = (i: number, name: string) => (after[i].backends.find((b) => b.name === name)?.total ?? 0) - (before[i].backends.find((b) => b.name === name)?.total ?? 0);
      expect([sent(0, 'node-b'), sent(1, 'node-a')]).toEqual([n, n]);
      // Each lb received exactly its clients' n requests and the other's n forwarded ones.
      expect([after[0].frontend.total - before[0].frontend.total, after[1].frontend.total - before[1].frontend.total]).toEqual([2 * n, 2 * n]);
      lbA.child.kill('SIGTERM');
      lbB.child.kill('SIGTERM');
      expect(await Promise.all([lbA.exited, lbB.exited])).toEqual([0, 0]);
    }, 60_000);
  });

  describe('over verified TLS (a peer listener)', () => {
    const pki = mkdtempSync(join(tmpdir(), 'vita-lb-pki-'));
    const file = (name: string) => join(pki, name);
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: ['ignore', 'ignore', 'pipe'] });
    /** A CA, and a server certificate it signs for `san` (e.g. `IP:127.0.0.1`). */
    const ca = (name: string) => openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`));
    const leaf = (name: string, caName: string, san: string) => {
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`));
      writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
      openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${caName}.crt`), '-CAkey', file(`${caName}.key`), '-CAcreateserial', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.crt`));
    };
    let a1: TestBackend;
    let b1: TestBackend;
    let right: LbProcess;
    let wrongName: LbProcess;
    const peerPorts: number[] = [];

    beforeAll(async () => {
      ca('ca');
      ca('other-ca');
      leaf('node-b', 'ca', 'IP:127.0.0.1');
      leaf('elsewhere', 'ca', 'DNS:node-b.example.net');
      [a1, b1] = await Promise.all([TestBackend.start('a1'), TestBackend.start('b1')]);
      peerPorts.push(await freePort(), await freePort());
      const peer = (port: number, cert: string) => ({ listen: `127.0.0.1:${port}`, tlsCert: file(`${cert}.crt`), tlsKey: file(`${cert}.key`) });
      // (With two workers: the peer listener is shared by both, like the plain one.)
      right = await startLbProcess(dist, { ...quiet, workers: 2, nodeName: 'node-b', backends: [{ name: 'b1', url: b1.url }], peer: peer(peerPorts[0], 'node-b') });
      wrongName = await startLbProcess(dist, { ...quiet, nodeName: 'node-c', backends: [{ name: 'b1', url: b1.url }], peer: peer(peerPorts[1], 'elsewhere') });
      await a1.kill();
    }, 60_000);
    afterAll(() => rmSync(pki, { recursive: true, force: true }));

    it('an https backup whose certificate the CA signed for the URL’s host serves the traffic', async () => {
      const lbA = await startLbProcess(dist, { ...quiet, nodeName: 'node-a', backends: [{ name: 'a1', url: a1.url }], backups: [backup('node-b', `https://127.0.0.1:${peerPorts[0]}`)] }, { LB_BACKUP_CA: file('ca.crt') });
      await statusIs(lbA, 'node-b', 'UP');
      const { statuses, nodes, replies } = await burst(`${lbA.url}/echo`, 10);
      expect([statuses, nodes]).toEqual([[200], ['node-b']]);
      expect((JSON.parse(replies[0].body) as { headers: Record<string, string> }).headers['x-vita-forwarded-by']).toBe('node-a');
      // The peer listener serves the same routing (its requests counted with the rest).
      expect((await right.stats()).frontend.total).toBeGreaterThanOrEqual(10);
    });

    it('a certificate from another CA, or for another host name: the backup stays DOWN, with the reason, and gets no request', async () => {
      const otherCa = await startLbProcess(dist, { ...quiet, nodeName: 'node-a', backends: [{ name: 'a1', url: a1.url }], backups: [backup('node-b', `https://127.0.0.1:${peerPorts[0]}`)] }, { LB_BACKUP_CA: file('other-ca.crt') });
      const otherName = await startLbProcess(dist, { ...quiet, nodeName: 'node-a', backends: [{ name: 'a1', url: a1.url }], backups: [backup('node-c', `https://127.0.0.1:${peerPorts[1]}`)] }, { LB_BACKUP_CA: file('ca.crt') });
      const checked = (lb: LbProcess, name: string) => waitFor(`a failed check of ${name}`, async () => {
        const s = await server(lb, name);
        return s?.check !== null && s?.check?.ok === false ? s : undefined;
      });
      const [viaOtherCa, viaOtherName] = await Promise.all([checked(otherCa, 'node-b'), checked(otherName, 'node-c')]);
      expect(viaOtherCa.status).toBe('DOWN');
      expect(viaOtherCa.check?.error).toMatch(/^TLS: its certificate .*not trusted|^TLS: its certificate is not signed by a trusted CA/);
      expect(viaOtherName.status).toBe('DOWN');
      expect(viaOtherName.check?.error).toBe('TLS: its certificate does not name 127.0.0.1 (ERR_TLS_CERT_ALTNAME_INVALID)');
      const before = (await wrongName.stats()).frontend.total;
      for (const lb of [otherCa, otherName]) {
        const { statuses, nodes } = await burst(`${lb.url}/nowhere`, 3);
        expect([statuses, nodes]).toEqual([[503], ['node-a']]);
      }
      await sleep(300);
      expect([(await server(otherCa, 'node-b'))?.total, (await server(otherName, 'node-c'))?.total]).toEqual([0, 0]);
      expect((await wrongName.stats()).frontend.total).toBe(before);
    });
  });

  describe('backups learned from the site topology (peers.url), with two workers', () => {
    let topology: Server;
    let body = '';
    afterAll(() => new Promise((r) => topology?.close(r)));

    it('a peer listed is a backup in every worker, a peer gone is dropped, a bad answer keeps the last good list', async () => {
      topology = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(body));
      await new Promise<void>((r) => topology.listen(0, '127.0.0.1', r));
      const peersUrl = `http://127.0.0.1:${(topology.address() as AddressInfo).port}/api/v1/sites/peers`;
      const [a1, b1] = await Promise.all([TestBackend.start('a1'), TestBackend.start('b1')]);
      const lbB = await startLbProcess(dist, { ...quiet, nodeName: 'node-b', backends: [{ name: 'b1', url: b1.url }] });
      const selfPort = await freePort();
      body = JSON.stringify({ peers: [] });
      const lbA = await startLbProcess(dist, { ...quiet, workers: 2, logLevel: 'warn', nodeName: 'node-a', backends: [{ name: 'a1', url: a1.url }] }, { LB_PEERS_URL: peersUrl, LB_PEERS_INTERVAL_MS: '200' });
      await a1.kill();
      await statusIs(lbA, 'a1', 'DOWN');
      expect((await burst(`${lbA.url}/alone`, 4)).statuses).toEqual([503]);

      body = JSON.stringify({ peers: [{ name: 'node-a', url: `http://127.0.0.1:${selfPort}` }, { name: 'node-b', url: lbB.url }] });
      await statusIs(lbA, 'node-b', 'UP');
      expect((await lbA.stats()).backends.map((b) => [b.name, b.backup])).toEqual([['a1', false], ['node-b', true]]);
      // Fresh connections are shared out over both workers: every one of them uses the backup.
      const learned = await burst(`${lbA.url}/learned`, 20);
      expect([learned.statuses, learned.nodes]).toEqual([[200], ['node-b']]);

      body = '{"peers": [{"name": "-bad-", "url": 7}]}';
      const badSince = Date.now();
      await sleep(800);
      expect((await server(lbA, 'node-b'))?.status).toBe('UP');
      const output = lbA.output();
      expect(output).toMatch(/"error":"peers\[0\]\.name: must be a DNS label[^"]*","msg":"peers poll failed: the last good list of backups stays"/);
      // Logged at most once per interval (200 ms) for as long as the bad answer lasted (longer on a loaded machine).
      expect((output.match(/peers poll failed/g) ?? []).length).toBeLessThanOrEqual(Math.ceil((Date.now() - badSince) / 200) + 1);

      body = JSON.stringify({ peers: [] });
      await waitFor('node-b to be dropped', async () => ((await lbA.stats()).backends.length === 1 ? true : undefined));
      const dropped = await burst(`${lbA.url}/dropped`, 20);
      expect([dropped.statuses, dropped.nodes]).toEqual([[503], ['node-a']]);
    }, 60_000);
  });
});
