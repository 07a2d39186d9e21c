import { BindServer } from '@vita/bind';
import type { LbStats } from '@vita/contracts';
import { freePort, workspaceRoot } from '@vita/testing';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendsOf, cleanup, FAST_CHECKS, startLbProcess, statusOf, TestBackend, waitFor, type LbProcess } from './test/harness';
import { Pebble, verifiesAgainst } from './test/pebble';

/*
 * lb keeping its own certificate through ACME, as an operator runs it: two content nodes' lbs (the
 * built bundle; node A with two workers) on their own loopback addresses, a real pebble that
 * validates http-01 at whatever address BIND gives for the name, short-lived certificates.
 */

const NAME = 'www.vita.test';
const NODE_A = '127.0.0.2';
const NODE_B = '127.0.0.3';
/** A third node, validated through DNS (DNS-01) for the zone's apex and a wildcard. */
const NODE_C = '127.0.0.4';
/** Issued certificates live this long; renewal at `RENEW_AT` of it. */
const VALIDITY_S = 24;
const RENEW_AT = 0.3;

const dist = join(workspaceRoot(), 'dist', 'apps', 'lb');
const work = mkdtempSync(join(tmpdir(), 'vita-lb-acme-'));

interface Served {
  status: number;
  fingerprint: string;
  serial: string;
  /** The leaf, PEM. */
  chain: string;
}

/** One HTTPS GET to `address:port` for NAME, verified against `ca` and NAME; the certificate lb served. */
function get(address: string, port: number, ca: string, path = '/health/ready', agent: Agent | false = false): Promise<Served> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: address, port, path, servername: NAME, ca, agent, headers: { host: NAME }, timeout: 5_000 }, (res) => {
      const socket = res.socket as TLSSocket;
      const peer = socket.getPeerCertificate();
      const chain = new X509Certificate(peer.raw).toString();
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint: peer.fingerprint256, serial: peer.serialNumber, chain }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** A plain HTTP exchange with lb's plain listener at `address:port`. */
function plain(address: string, port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: address, port });
    let text = '';
    const timer = setTimeout(() => (s.destroy(), reject(new Error('no answer within 5 s'))), 5_000);
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${NAME}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Connection: close\r\n\r\n`));
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('close', () => (clearTimeout(timer), resolve({ status: statusOf(text), text })));
    s.on('error', (err) => (clearTimeout(timer), reject(err)));
  });
}

describe('lb obtains and renews its certificate through ACME (pebble + BIND, two nodes, the built bundle)', () => {
  let bind: BindServer;
  let pebble: Pebble;
  let backend: TestBackend;
  let httpPort: number;
  const httpsPorts = { a: 0, b: 0, c: 0 };
  const nodes: Record<'a' | 'b' | 'c', LbProcess | undefined> = { a: undefined, b: undefined, c: undefined };
  let webhook: Server;
  const alerts: Record<string, unknown>[] = [];
  let webhookUrl: string;
  let root: string;

  const settings = (node: 'a' | 'b', address: string, peer: string) => ({
    listen: `${address}:${httpPort}`,
    workers: node === 'a' ? 2 : 1,
    nodeName: `node-${node}`,
    backends: backendsOf(backend),
    healthCheck: FAST_CHECKS,
    https: {
      listen: `${address}:${httpsPorts[node]}`,
      challengePeers: [`http://${peer}:${httpPort}`],
      pollMs: 0,
      acme: { names: [NAME], directoryUrl: pebble.directoryUrl, caFile: pebble.tlsCertFile, email: 'ops@vita.test', dir: join(work, node), renewAt: RENEW_AT, retryMinMs: 1_000, retryMaxMs: 2_000 },
    },
  });

  const stats = async (node: 'a' | 'b' | 'c'): Promise<LbStats> => (nodes[node] as LbProcess).stats();

  beforeAll(async () => {
    if (!existsSync(join(dist, 'main.js'))) throw new Error(`${dist} has no bundle: run \`npx nx build lb\``);
    httpPort = await freePort();
    httpsPorts.a = await freePort();
    httpsPorts.b = await freePort();
    httpsPorts.c = await freePort();
    // The name points at node B: node A's validations reach B, which asks A for the token.
    bind = await BindServer.start({ zone: 'vita.test', records: [{ name: `${NAME}.`, type: 'A', value: NODE_B }] });
    pebble = await Pebble.start({ dir: work, dnsServer: `127.0.0.1:${bind.port}`, httpPort, validitySeconds: VALIDITY_S });
    root = await pebble.root();
    backend = await TestBackend.start('w1');
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        alerts.push(JSON.parse(body) as Record<string, unknown>);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', () => r()));
    webhookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/hook?token=hook-secret-123`;
  }, 60_000);

  afterAll(async () => {
    await Promise.all(Object.values(nodes).map((n) => n?.child.kill('SIGKILL')));
    await cleanup();
    await pebble?.stop();
    await bind?.stop();
    await new Promise<void>((r) => (webhook ? webhook.close(() => r()) : r()));
    rmSync(work, { recursive: true, force: true });
  });

  it('starts without a certificate, gets one for both nodes (A validated through B), and serves it over HTTPS verified against pebble\'s root', async () => {
    const env = { LB_ALERT_WEBHOOK_URL: webhookUrl };
    nodes.a = await startLbProcess(dist, settings('a', NODE_A, NODE_B), env);
    // Before the certificate is in hand, the plain listener already sends the name to https.
    const early = await plain(NODE_A, httpPort, '/page');
    expect(early.status).toBe(308);
    expect(early.text).toContain(`Location: https://${NAME}:${httpsPorts.a}/page`);
    // Node A cannot pass validation alone: pebble asks B's address, and B is not running yet.
    const failing = await waitFor('node A to fail its first order', async () => ((await stats('a')).acme?.failures ?? 0) > 0 || undefined, 20_000);
    expect(failing).toBe(true);
    nodes.b = await startLbProcess(dist, settings('b', NODE_B, NODE_A), env);
    for (const node of ['a', 'b'] as const) {
      const acme = await waitFor(`node ${node} to hold a certificate`, async () => {
        const a = (await stats(node)).acme;
        return a?.names[0]?.covered === true && a.state === 'ok' ? a : undefined;
      }, 30_000);
      expect(acme.names[0]).toMatchObject({ name: NAME, covered: true });
      expect(acme.names[0].issuer).toMatch(/Pebble/i);
      expect(acme.names[0].lastError).toBeUndefined();
    }
    const a = await waitFor('node A to serve its certificate', () => get(NODE_A, httpsPorts.a, root).catch(() => undefined), 10_000);
    expect(a.status).toBe(200);
    expect(verifiesAgainst(readFileSync(join(work, 'a', 'cert.pem'), 'utf8'), root)).toBe(true);
    const b = await get(NODE_B, httpsPorts.b, root);
    expect(b.fingerprint).not.toBe(a.fingerprint); // each node ordered its own
    expect(statSync(join(work, 'a', 'key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(work, 'a', 'account.key')).mode & 0o777).toBe(0o600);
    const s = await stats('a');
    expect(s.certificates?.find((c) => c.file === join(work, 'a', 'cert.pem'))).toMatchObject({ names: [NAME], lastReloadError: null });
    const metrics = await (await fetch(`${nodes.a?.admin}/metrics`)).text();
    expect(metrics).toMatch(/lb_acme_failures 0/);
    expect(metrics).toContain(`lb_acme_certificate_covers{name="${NAME}"} 1`);
    const page = await (await fetch(`${nodes.a?.admin}/`)).text();
    expect(page).toContain('Certificates');
    expect(page).toContain(NAME);
  }, 90_000);

  it('answers another node\'s challenge only from that node, never looping between nodes', async () => {
    // A token neither node holds: B asks A (marked as forwarded), A does not ask back.
    const t0 = Date.now();
    const miss = await plain(NODE_B, httpPort, '/.well-known/acme-challenge/unknown_token-1');
    expect(miss.status).toBe(404);
    expect(Date.now() - t0).toBeLessThan(3_000);
    const forwarded = await plain(NODE_A, httpPort, '/.well-known/acme-challenge/unknown_token-1', { 'x-vita-acme-peer': '1' });
    expect(forwarded.status).toBe(404);
  });

  it('renews before expiry under load with no failed request, and every worker serves the new certificate', async () => {
    const first = await get(NODE_A, httpsPorts.a, root);
    let failures = 0;
    let requests = 0;
    let renewed = false;
    const deadline = Date.now() + VALIDITY_S * 1000;
    // Two clients, each a new TLS connection per request (every handshake picks the certificate in force).
    const client = async () => {
      while (Date.now() < deadline && !(renewed && requests >= 20)) {
        try {
          const r = await get(NODE_A, httpsPorts.a, root);
          if (r.status !== 200) failures++;
          if (r.fingerprint !== first.fingerprint) renewed = true;
        } catch {
          failures++;
        }
        requests++;
      }
    };
    // And one client on a kept-alive connection: it keeps its certificate and is never dropped.
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: root });
    let keptAlive = 0;
    let steadyPrint: string | undefined;
    const steady = async () => {
      while (Date.now() < deadline && !(renewed && requests >= 20)) {
        try {
          const r = await get(NODE_A, httpsPorts.a, root, '/health/ready', agent);
          steadyPrint ??= r.fingerprint;
          if (r.status !== 200 || r.fingerprint !== steadyPrint) failures++;
          keptAlive++;
        } catch {
          failures++;
        }
      }
    };
    await Promise.all([client(), client(), steady()]);
    agent.destroy();
    expect(keptAlive).toBeGreaterThan(10);
    expect(failures).toBe(0);
    expect(requests).toBeGreaterThanOrEqual(20);
    expect(renewed).toBe(true);
    // From now on every new connection, whichever worker takes it, gets a renewed certificate.
    for (let i = 0; i < 6; i++) expect((await get(NODE_A, httpsPorts.a, root)).fingerprint).not.toBe(first.fingerprint);
    const s = await stats('a');
    expect(s.acme?.names[0].lastSuccessAt).toBeDefined();
    expect(Date.parse(s.acme?.names[0].notAfter ?? '')).toBeGreaterThan(Date.parse(new X509Certificate(first.chain).validTo));
  }, 60_000);

  it('gets a wildcard certificate through DNS-01 (TXT records written to BIND over RFC 2136 + TSIG), none left behind', async () => {
    nodes.c = await startLbProcess(dist, {
      listen: `${NODE_C}:${httpPort}`,
      nodeName: 'node-c',
      backends: backendsOf(backend),
      healthCheck: FAST_CHECKS,
      https: {
        listen: `${NODE_C}:${httpsPorts.c}`,
        pollMs: 0,
        acme: {
          names: ['vita.test', '*.vita.test'],
          directoryUrl: pebble.directoryUrl,
          caFile: pebble.tlsCertFile,
          dir: join(work, 'c'),
          retryMinMs: 1_000,
          retryMaxMs: 2_000,
          dns01: { kind: 'rfc2136', server: `127.0.0.1:${bind.port}`, zone: 'vita.test', keyFile: bind.keyFile },
        },
      },
    });
    const acme = await waitFor('node C to hold a certificate', async () => {
      const a = (await stats('c')).acme;
      return a?.state === 'ok' && a.names.every((n) => n.covered) ? a : undefined;
    }, 30_000);
    expect(acme.challengeType).toBe('dns-01');
    expect(acme.cleanupError).toBeUndefined();
    const served = await waitFor('node C to serve it', () => get(NODE_C, httpsPorts.c, root).catch(() => undefined), 10_000);
    const san = new X509Certificate(served.chain).subjectAltName ?? '';
    expect(san).toContain('DNS:*.vita.test');
    expect(san).toContain('DNS:vita.test');
    // dig as the oracle: nothing left at the challenge name.
    const dig = execFileSync('dig', ['+tcp', '+short', '+time=2', '+tries=2', '-p', String(bind.port), '@127.0.0.1', '_acme-challenge.vita.test', 'TXT'], { timeout: 15_000 }).toString();
    expect(dig.trim()).toBe('');
    nodes.c.child.kill('SIGTERM');
    await nodes.c.exited;
  }, 60_000);

  it('pebble down: the certificate in force stays served, the failure shows in /stats and /metrics and is alerted (webhook) without its URL', async () => {
    expect((await get(NODE_A, httpsPorts.a, root)).status).toBe(200);
    // Between orders (an order cut short by pebble's death fails too, only later: acme-client polls on).
    await waitFor('node A between orders', async () => ((await stats('a')).acme?.state === 'ok' ? true : undefined), 20_000);
    await pebble.stop();
    const failing = await waitFor('node A to report the failure', async () => {
      const acme = (await stats('a')).acme;
      return acme?.state === 'failing' && acme.names[0].lastError !== undefined ? acme : undefined;
    }, 45_000);
    expect(failing.names[0].lastError).toMatch(/unreachable: ECONNREFUSED|connection failed during the order/);
    const during = await get(NODE_A, httpsPorts.a, root);
    expect(during.status).toBe(200);
    // Another failed attempt later, the same certificate is still served.
    await waitFor('a further failed attempt', async () => ((await stats('a')).acme?.failures ?? 0) > failing.failures || undefined, 10_000);
    const later = await get(NODE_A, httpsPorts.a, root);
    expect(later).toMatchObject({ status: 200, fingerprint: during.fingerprint });
    expect(Date.parse(failing.names[0].notAfter ?? '')).toBeGreaterThan(Date.now());
    const metrics = await (await fetch(`${nodes.a?.admin}/metrics`)).text();
    expect(Number(/lb_acme_failures (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(0);
    const alert = await waitFor('the alert webhook to be called', () => alerts.find((a) => a['event'] === 'problem' && String(a['summary']).includes(NAME)), 10_000);
    expect(String(alert['summary'])).toMatch(/cannot be renewed/);
    expect(JSON.stringify(alert)).not.toContain('hook-secret-123');
    expect(nodes.a?.output()).not.toContain('hook-secret-123');
    const page = await (await fetch(`${nodes.a?.admin}/`)).text();
    expect(page).toContain('failing');
  }, 90_000);
});
