import { BindServer } from '@vita/bind';
import type { LbStats } from '@vita/contracts';
import { freePort, workspaceRoot } from '@vita/testing';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { backendsOf, cleanup, FAST_CHECKS, startLbProcess, TestBackend, waitFor, type LbProcess } from './test/harness';
import { HostilePeer, THUMBPRINT, type PeerMode } from './test/hostile-peer';
import { Pebble } from './test/pebble';
import { rawExchange } from './test/raw-client';

/*
 * An outside tester's attacks on lb's ACME side, with real processes on loopback: the built bundle,
 * hostile challenge peers, a real pebble (whose validation resolves names through a real BIND), a
 * hung pebble (SIGSTOP), a read-only and a full acme.dir (tmpfs), SIGKILL in mid-order, reloads
 * racing an order, a hung or failing alert webhook. A test that fails asserts what lb should do.
 */

const dist = join(workspaceRoot(), 'dist', 'apps', 'lb');
const work = mkdtempSync(join(tmpdir(), 'vita-lb-acme-attack-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });

/** A self-signed certificate for `names` in `<work>/<base>.crt|.key`. */
function selfSigned(base: string, names: string[]): { cert: string; key: string } {
  const cert = join(work, `${base}.crt`);
  const key = join(work, `${base}.key`);
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`, '-keyout', key, '-out', cert);
  return { cert, key };
}

/** Raw bytes on a fresh connection to `host:port`; all that came back, and how long until the server closed (or `maxMs`). */
function rawText(port: number, bytes: string, maxMs = 8_000, host = '127.0.0.1'): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const socket = connect(port, host);
    let text = '';
    const done = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed, ms: Date.now() - t0 });
    };
    const timer = setTimeout(() => done(false), maxMs);
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
    socket.once('connect', () => socket.write(bytes, 'latin1'));
  });
}

const challengeGet = (token: string, extra = '', close = true) => `GET /.well-known/acme-challenge/${token} HTTP/1.1\r\nHost: www.vita.test\r\n${extra}${close ? 'Connection: close\r\n' : ''}\r\n`;

/** lb's JSON log lines whose msg matches. */
const logLines = (lb: LbProcess, msg: RegExp): Record<string, unknown>[] =>
  lb
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return {};
      }
    })
    .filter((l) => typeof l['msg'] === 'string' && msg.test(l['msg'] as string));

async function stopLb(lb: LbProcess | undefined): Promise<void> {
  if (lb === undefined || lb.child.exitCode !== null || lb.child.signalCode !== null) return;
  lb.child.kill('SIGKILL');
  await Promise.race([lb.exited, sleep(5_000)]);
}

/** SIGHUP and wait until the primary logged the reload's outcome (one more "configuration reloaded" or "reload failed"). */
async function reload(lb: LbProcess): Promise<void> {
  const before = logLines(lb, /^(configuration reloaded|reload failed)/).length;
  lb.child.kill('SIGHUP');
  await waitFor('the reload to be logged', () => (logLines(lb, /^(configuration reloaded|reload failed)/).length > before ? true : undefined), 15_000);
}

afterAll(async () => {
  await cleanup();
  rmSync(work, { recursive: true, force: true });
});

beforeAll(() => {
  if (!existsSync(join(dist, 'main.js'))) throw new Error(`${dist} has no bundle: run \`npx nx run lb:build\``);
});

describe('hostile challenge peers, hostile tokens and Host headers (the built bundle, two workers, a static certificate)', () => {
  let backend: TestBackend;
  let peer: HostilePeer;
  let target: HostilePeer;
  let lb: LbProcess;
  const challenges = join(work, 'peer-challenges');
  let httpsPort: number;

  const stats = (): Promise<LbStats> => lb.stats();
  /** Every request answered and every client connection closed, as /stats sees it (workers report with a delay). */
  const quiet = () => waitFor('frontend.active and frontend.connections back to 0', async () => {
    const f = (await stats()).frontend;
    return f.active === 0 && f.connections === 0 ? f : undefined;
  }, 15_000);
  /** lb let go of every connection it opened to the peer. */
  const peerQuiet = (p: HostilePeer) => waitFor('lb to close its connections to the peer', () => (p.open === 0 ? true : undefined), 5_000);

  beforeAll(async () => {
    mkdirSync(challenges);
    const pair = selfSigned('static', ['www.vita.test', 'static.vita.test']);
    backend = await TestBackend.start('w1');
    peer = await HostilePeer.start();
    target = await HostilePeer.start();
    target.mode = 'valid';
    httpsPort = await freePort();
    lb = await startLbProcess(dist, {
      workers: 2,
      logLevel: 'info',
      backends: backendsOf(backend),
      healthCheck: FAST_CHECKS,
      https: { listen: `127.0.0.1:${httpsPort}`, certificates: [pair], challengesDir: challenges, challengePeers: [peer.url], pollMs: 0 },
    });
    await waitFor('the backend to be up', async () => ((await stats()).backends.every((b) => b.health === 'up') ? true : undefined), 15_000);
  }, 60_000);

  afterAll(async () => {
    await stopLb(lb);
    await peer?.stop();
    await target?.stop();
  });

  const modes: PeerMode[] = ['hang', 'slow', 'huge', 'chunked', 'wrong', 'redirect', 'reset', 'garbage', 'headers'];
  it.each(modes)('a peer that misbehaves (%s): the validation request gets 404 within ~1 s, nothing from the peer leaks, lb lets go of the peer connection', async (mode) => {
    peer.mode = mode;
    target.redirectTo = target.url;
    peer.redirectTo = target.url;
    const before = target.requests.length;
    const token = `attack_${mode}_1`;
    const r = await rawText(lb.port, challengeGet(token));
    expect(r.text).toMatch(/^HTTP\/1\.1 404 /);
    expect(r.ms).toBeLessThan(2_500);
    expect(r.text).not.toContain(THUMBPRINT);
    expect(r.text).not.toMatch(/AAAA|BBBB|SSH-2|X-Filler/);
    expect(target.requests.length).toBe(before); // a redirect is not followed
    await peerQuiet(peer);
    await quiet();
  }, 30_000);

  it('a peer answering the key authorization slowly (400 ms): the answer keeps its place among pipelined requests (and a body on a challenge GET is not taken as the next request)', async () => {
    peer.mode = 'valid';
    peer.delayMs = 400;
    writeFileSync(join(challenges, 'held_token-1'), `held_token-1.${THUMBPRINT}\n`);
    const fake = 'GET /evil HTTP/1.1\r\nHost: x\r\n\r\n';
    const bytes =
      challengeGet('from_peer-1', '', false) +
      'GET /health/ready HTTP/1.1\r\nHost: www.vita.test\r\n\r\n' +
      challengeGet('held_token-1', `Content-Length: ${fake.length}\r\n`, false) +
      fake + // the body: bytes that look like a request
      challengeGet('held_token-1', 'Transfer-Encoding: chunked\r\n', false) +
      '5\r\nhello\r\n0\r\n\r\n' +
      'GET /page?x=1 HTTP/1.1\r\nHost: www.vita.test\r\nConnection: close\r\n\r\n';
    const t0 = Date.now();
    const r = await rawExchange(lb.port, bytes, { expect: 5, maxMs: 8_000 });
    expect(r.responses.map((x) => x.status)).toEqual([200, 200, 200, 200, 308]);
    expect(r.responses[0].body).toBe(`from_peer-1.${THUMBPRINT}`);
    expect(r.responses[2].body).toBe(`held_token-1.${THUMBPRINT}`);
    expect(r.responses[3].body).toBe(`held_token-1.${THUMBPRINT}`);
    expect(r.responses[4].headers['location']).toBe(`https://www.vita.test:${httpsPort}/page?x=1`);
    expect(Date.now() - t0).toBeLessThan(4_000);
    expect(peer.requests.some((l) => l.includes('held_token-1'))).toBe(false); // held here: never asked of the peer
    await peerQuiet(peer);
    await quiet();
  }, 30_000);

  it('HEAD on a challenge: headers only (Content-Length of the key authorization), and the pipelined request after it is read correctly', async () => {
    const r = await rawText(lb.port, 'HEAD /.well-known/acme-challenge/held_token-1 HTTP/1.1\r\nHost: www.vita.test\r\n\r\n' + 'GET /health/ready HTTP/1.1\r\nHost: www.vita.test\r\nConnection: close\r\n\r\n');
    const [head, rest] = [r.text.slice(0, r.text.indexOf('\r\n\r\n') + 4), r.text.slice(r.text.indexOf('\r\n\r\n') + 4)];
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head).toMatch(new RegExp(`\\r\\nContent-Length: ${`held_token-1.${THUMBPRINT}`.length}\\r\\n`, 'i'));
    expect(rest).toMatch(/^HTTP\/1\.1 200 /); // no body between the two
  }, 30_000);

  it('clients that disconnect while their answer is on its way: counted as gone, frontend.active back to 0, lb still answers', async () => {
    peer.mode = 'hang';
    const sockets: Socket[] = [];
    for (let i = 0; i < 40; i++) {
      const s = connect(lb.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.once('connect', () => s.write(challengeGet(`gone_${i}`, '', false)));
      sockets.push(s);
    }
    await waitFor('the peer to be asked', () => (peer.open >= 20 ? true : undefined), 5_000);
    for (const s of sockets) s.destroy();
    await quiet();
    await peerQuiet(peer);
    const r = await rawText(lb.port, 'GET /health/ready HTTP/1.1\r\nHost: www.vita.test\r\nConnection: close\r\n\r\n');
    expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
  }, 30_000);

  it('amplification: pipelined unknown tokens cost at most one peer lookup per client connection at a time (8 connections × 6 pipelined requests)', async () => {
    peer.mode = 'hang';
    await peerQuiet(peer);
    peer.resetMax();
    const asked = peer.accepted;
    const t0 = Date.now();
    const runs = Array.from({ length: 8 }, (_, c) => rawExchange(lb.port, Array.from({ length: 6 }, (_, i) => challengeGet(`amp_${c}_${i}`, '', i === 5)).join(''), { expect: 6, maxMs: 60_000 }));
    const results = await Promise.all(runs);
    const elapsed = Date.now() - t0;
    const statuses = results.flatMap((r) => r.responses.map((x) => x.status));
    console.log(`amplification: ${statuses.length} answers (${[...new Set(statuses)].join(',')}) in ${elapsed} ms; the peer saw ${peer.accepted - asked} lookups, ${peer.maxOpen} at once`);
    expect(statuses.filter((s) => s === 404).length).toBe(8 * 6);
    await peerQuiet(peer);
    await quiet();
    // One lookup per connection at a time; the peer may see the next one arrive just before the last one's close.
    expect(peer.maxOpen).toBeLessThanOrEqual(16);
  }, 90_000);

  it('many connections at once, one unknown token each: every one answered 404 within the bound, the peer load is at most one lookup per request', async () => {
    peer.mode = 'hang';
    await peerQuiet(peer);
    peer.resetMax();
    const asked = peer.accepted;
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 150 }, (_, i) => rawText(lb.port, challengeGet(`many_${i}`), 15_000)));
    const elapsed = Date.now() - t0;
    console.log(`150 connections: answered in ${elapsed} ms, the peer saw ${peer.accepted - asked} lookups, ${peer.maxOpen} at once`);
    expect(results.every((r) => /^HTTP\/1\.1 404 /.test(r.text))).toBe(true);
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(5_000);
    expect(peer.accepted - asked).toBeLessThanOrEqual(150);
    await peerQuiet(peer);
    await quiet();
  }, 60_000);

  it('hostile tokens (dots, encoded slashes, NUL, query, huge, empty, unicode) get 404 at once, read no file and are never asked of the peer', async () => {
    peer.mode = 'valid';
    peer.delayMs = 0;
    writeFileSync(join(work, 'secret.txt'), 'TOP-SECRET-CONTENT\n');
    const asked = peer.requests.length;
    const paths = [
      '../secret.txt',
      '..%2F..%2Fsecret.txt',
      '..%2fsecret.txt',
      '%2e%2e%2fsecret.txt',
      '..\\secret.txt',
      'held_token-1%00',
      'held_token-1%2F',
      'held_token-1/',
      'held_token-1/..',
      'held_token-1?x=1',
      'held_token-1#frag',
      'held_token-1.',
      `${'a'.repeat(129)}`,
      `${'a'.repeat(7000)}`,
      '',
      '%C3%A9t%C3%A9',
      '%252e%252e%252fsecret.txt',
    ];
    for (const p of paths) {
      const r = await rawText(lb.port, `GET /.well-known/acme-challenge/${p} HTTP/1.1\r\nHost: www.vita.test\r\nConnection: close\r\n\r\n`);
      // 404, or 400 for a target the parser refuses (a fragment): never the key authorization
      expect([p, /^HTTP\/1\.1 (404|400) /.test(r.text)]).toEqual([p, true]);
      expect(r.text).not.toContain('TOP-SECRET');
      expect(r.ms).toBeLessThan(1_500);
    }
    expect(peer.requests.slice(asked)).toEqual([]);
    // A path that is not under the prefix exactly (case, double slash) is not a challenge: redirected like any page.
    const upper = await rawText(lb.port, 'GET /.WELL-KNOWN/acme-challenge/held_token-1 HTTP/1.1\r\nHost: www.vita.test\r\nConnection: close\r\n\r\n');
    expect(upper.text).toMatch(/^HTTP\/1\.1 308 /);
    await quiet();
  }, 60_000);

  it('Host header tricks on the redirect: never a Location outside the names lb serves, the hostile host never echoed', async () => {
    const tricks = [
      'evil.example',
      'www.vita.test@evil.example',
      'evil.example#www.vita.test',
      'www.vita.test.evil.example',
      'www.vita.test:443@evil.example',
      'www.vita.test/evil.example',
      'www.vita.test\\evil.example',
      'evil.example:80',
      '[::1]',
      '127.0.0.1',
      'www.vita.test:80:81',
      'xn--www-vita-test.evil.example',
      '',
    ];
    for (const host of tricks) {
      const r = await rawText(lb.port, `GET /x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      const location = /\r\nLocation: ([^\r]*)/i.exec(r.text)?.[1];
      if (location !== undefined) expect([host, new URL(location).hostname]).toEqual([host, 'www.vita.test']);
      expect(r.text).not.toContain('evil.example');
    }
    // Two Host headers, an absolute-form target: refused, never redirected elsewhere.
    const two = await rawText(lb.port, 'GET /x HTTP/1.1\r\nHost: www.vita.test\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    expect(two.text).toMatch(/^HTTP\/1\.1 400 /);
    const absolute = await rawText(lb.port, 'GET http://evil.example/x HTTP/1.1\r\nHost: www.vita.test\r\nConnection: close\r\n\r\n');
    expect(absolute.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(absolute.text).not.toContain('evil.example');
    // A path that looks like a network path stays on the host.
    const scheme = await rawText(lb.port, 'GET //evil.example/x HTTP/1.1\r\nHost: www.vita.test\r\nConnection: close\r\n\r\n');
    const location = /\r\nLocation: ([^\r]*)/i.exec(scheme.text)?.[1] ?? '';
    expect(new URL(location).hostname).toBe('www.vita.test');
    await quiet();
  }, 60_000);
});

/** One HTTPS GET of /health/ready for `name` at `address:port`, verified against `ca`: the status and the certificate lb served. */
function tlsGet(address: string, port: number, name: string, ca: string, timeoutMs = 5_000): Promise<{ status: number; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: address, port, path: '/health/ready', servername: name, ca, agent: false, headers: { host: name }, timeout: timeoutMs }, (res) => {
      const peer = (res.socket as TLSSocket).getPeerCertificate();
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint: peer.fingerprint256 }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Whether `certFile`'s leaf and `keyFile` form a pair (false when either is missing or unreadable). */
function pairMatches(certFile: string, keyFile: string): boolean {
  try {
    return new X509Certificate(readFileSync(certFile)).checkPrivateKey(createPrivateKey(readFileSync(keyFile)));
  } catch {
    return false;
  }
}

const pebbleChild = (p: Pebble): ChildProcess | undefined => (p as unknown as { child?: ChildProcess }).child;
const mount = (...args: string[]) => execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] });
const umount = (dir: string) => {
  try {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
  } catch {
    // not mounted
  }
};

describe('ACME attacks (pebble + BIND, the built bundle)', () => {
  /** Issued certificates live this long; renewal after RENEW_AT of it (6 s), so renewals come often while a certificate stays valid. */
  const VALIDITY_S = 60;
  const RENEW_AT = 0.1;
  const ADDR = { n1: '127.0.0.11', n2: '127.0.0.12', n3: '127.0.0.13', n4: '127.0.0.14', n5: '127.0.0.15', n6: '127.0.0.16', n7: '127.0.0.17', hang: '127.0.0.31', n3b: '127.0.0.13' };
  let bind: BindServer;
  let pebble: Pebble;
  let backend: TestBackend;
  let httpPort: number;
  let httpsPort: number;
  let root: string;
  const running = new Set<LbProcess>();
  const mounts: string[] = [];
  const extraPebbles: Pebble[] = [];
  /** Orders pebble began to finalize (its log). */
  let finalizations = 0;

  const name = (n: string) => `${n}.vita.test`;
  const pebbleSignal = (sig: 'SIGSTOP' | 'SIGCONT', p: Pebble = pebble) => pebbleChild(p)?.kill(sig);

  /** lb for `node` (its own loopback address, the name pointing at it), keeping a certificate in `dir`. */
  const settings = (node: keyof typeof ADDR, dir: string, acme: Record<string, unknown> = {}, https: Record<string, unknown> = {}, p: Pebble = pebble, caFile = p.tlsCertFile) => ({
    listen: `${ADDR[node]}:${httpPort}`,
    workers: 1,
    logLevel: 'info',
    backends: backendsOf(backend),
    healthCheck: FAST_CHECKS,
    timeouts: { drainMs: 1_000 },
    https: {
      listen: `${ADDR[node]}:${httpsPort}`,
      pollMs: 1_000,
      // Short bounds so a hung server shows in seconds (the defaults are 30 s a request, 120 s an attempt).
      acme: { names: [name(node)], directoryUrl: p.directoryUrl, caFile, email: 'ops@vita.test', dir, renewAt: RENEW_AT, retryMinMs: 1_000, retryMaxMs: 2_000, timeoutMs: 3_000, attemptTimeoutMs: 8_000, ...acme },
      ...https,
    },
  });

  const start = async (s: Record<string, unknown>, env: Record<string, string> = {}): Promise<LbProcess> => {
    const lb = await startLbProcess(dist, s, env);
    running.add(lb);
    return lb;
  };
  const kill = async (lb: LbProcess) => {
    await stopLb(lb);
    running.delete(lb);
  };
  const acmeOf = async (lb: LbProcess) => (await lb.stats()).acme;
  const covered = (lb: LbProcess, ms = 60_000) =>
    waitFor('a certificate', async () => {
      const a = await acmeOf(lb);
      return a?.state === 'ok' && a.names[0]?.covered ? a : undefined;
    }, ms);

  beforeAll(async () => {
    httpPort = await freePort();
    httpsPort = await freePort();
    bind = await BindServer.start({ zone: 'vita.test', records: Object.entries(ADDR).map(([n, a]) => ({ name: `${n}.vita.test.`, type: 'A' as const, value: a })) });
    // Long chains (PEM over one 4 KiB page): what the full-disk attack needs.
    process.env['PEBBLE_CHAIN_LENGTH'] = '6';
    pebble = await Pebble.start({ dir: work, dnsServer: `127.0.0.1:${bind.port}`, httpPort, validitySeconds: VALIDITY_S });
    root = await pebble.root();
    pebbleChild(pebble)?.stdout?.on('data', (d: Buffer) => (finalizations += d.toString().split('Processing finalization').length - 1));
    backend = await TestBackend.start('w1');
  }, 90_000);

  afterEach(async () => {
    pebbleSignal('SIGCONT');
    for (const p of extraPebbles) pebbleSignal('SIGCONT', p);
    await Promise.all([...running].map((lb) => kill(lb)));
    for (const m of mounts.splice(0)) umount(m);
  });

  afterAll(async () => {
    for (const p of extraPebbles) await p.stop();
    await pebble?.stop();
    await bind?.stop();
  });

  it('the ACME server hung (SIGSTOP: accepts TCP, never answers) before an order: lb serves, /stats stays responsive while ordering, the failure is reported within the 30 s bound, then recovers', async () => {
    pebbleSignal('SIGSTOP');
    const t0 = Date.now();
    const lb = await start(settings('n1', join(work, 'n1a')));
    await waitFor('the order to start', async () => ((await acmeOf(lb))?.state === 'ordering' ? true : undefined), 15_000);
    for (let i = 0; i < 5; i++) {
      const t = Date.now();
      const s = await lb.stats();
      expect(Date.now() - t).toBeLessThan(1_500);
      expect(s.acme?.state).toBe('ordering');
      const plain = await rawText(httpPort, `GET /page HTTP/1.1\r\nHost: ${name('n1')}\r\nConnection: close\r\n\r\n`, 3_000, ADDR.n1);
      expect(plain.text).toMatch(/^HTTP\/1\.1 308 /);
      expect(plain.ms).toBeLessThan(1_500);
      await sleep(500);
    }
    const failing = await waitFor('the failure to be reported', async () => {
      const a = await acmeOf(lb);
      return a?.state === 'failing' ? a : undefined;
    }, 60_000);
    const ms = Date.now() - t0;
    console.log(`hung ACME server: failure reported after ${ms} ms: ${failing.names[0].lastError}`);
    expect(ms).toBeLessThan(45_000);
    expect(failing.names[0].lastError).toMatch(/did not answer in time|no answer within/);
    expect(failing.names[0].lastError).not.toContain('\n');
    pebbleSignal('SIGCONT');
    await covered(lb);
    expect((await tlsGet(ADDR.n1, httpsPort, name('n1'), root)).status).toBe(200);
  }, 150_000);

  it('SIGTERM while an order hangs on a hung ACME server: lb exits within timeouts.drainMs (+ a few s), not after the ACME call times out', async () => {
    pebbleSignal('SIGSTOP');
    const lb = await start(settings('n1', join(work, 'n1b')));
    await waitFor('the order to start', async () => ((await acmeOf(lb))?.state === 'ordering' ? true : undefined), 15_000);
    await sleep(1_000);
    const t0 = Date.now();
    lb.child.kill('SIGTERM');
    const code = await Promise.race([lb.exited, sleep(45_000).then(() => 'still running after 45 s')]);
    const ms = Date.now() - t0;
    console.log(`SIGTERM during a hung order: ${code} after ${ms} ms`);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(8_000);
  }, 120_000);

  it('the ACME server hangs while lb polls the challenge status (after pebble took the challenge): the attempt fails within a bounded time (a few 30 s calls), not after 12 polls of 30 s each', async () => {
    // The name points at a listener that accepts pebble's validation connection and never answers: the challenge stays pending while lb polls.
    const sockets: Socket[] = [];
    let validationAt = 0;
    const sink: TcpServer = createTcpServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
      validationAt ||= Date.now();
    });
    await new Promise<void>((r) => sink.listen(httpPort, ADDR.hang, () => r()));
    try {
      const lb = await start({ ...settings('n7', join(work, 'n7')), https: { ...settings('n7', join(work, 'n7')).https, acme: { ...settings('n7', join(work, 'n7')).https.acme, names: [name('hang')] } } });
      await waitFor('pebble to try to validate', () => (validationAt > 0 ? true : undefined), 40_000);
      await sleep(1_500); // lb has its answer to "challenge completed" and polls now
      expect((await acmeOf(lb))?.state).toBe('ordering');
      pebbleSignal('SIGSTOP');
      const t0 = Date.now();
      const failed = await waitFor('the attempt to fail', async () => {
        const a = await acmeOf(lb);
        return a?.state === 'failing' ? a : undefined;
      }, 130_000).catch((e: Error) => e);
      const ms = Date.now() - t0;
      console.log(`ACME server hung during polling: ${failed instanceof Error ? `still ordering after ${ms} ms` : `failed after ${ms} ms: ${failed.names[0].lastError}`}`);
      expect(failed).not.toBeInstanceOf(Error);
      expect(ms).toBeLessThan(100_000);
    } finally {
      pebbleSignal('SIGCONT');
      for (const s of sockets) s.destroy();
      await new Promise((r) => sink.close(r));
    }
  }, 240_000);

  it('SIGHUP twice while an order hangs (first a changed email, then https.acme removed): once the order settles, no ACME manager keeps running', async () => {
    const dir = join(work, 'n2');
    const pair = selfSigned('static-n2', ['static.vita.test']);
    const withAcme = settings('n2', dir, {}, { certificates: [pair] });
    pebbleSignal('SIGSTOP');
    const lb = await start(withAcme);
    await waitFor('the order to start', async () => ((await acmeOf(lb))?.state === 'ordering' ? true : undefined), 15_000);
    lb.writeConfig({ ...withAcme, https: { ...withAcme.https, acme: { ...withAcme.https.acme, email: 'other@vita.test' } } });
    await reload(lb);
    const { acme: _removed, ...withoutAcme } = withAcme.https;
    lb.writeConfig({ ...withAcme, https: withoutAcme });
    await reload(lb);
    expect((await lb.stats()).config.lastReloadError).toBeNull();
    expect((await lb.stats()).acme).toBeUndefined();
    pebbleSignal('SIGCONT');
    // The attempt that was in flight settles (it may fail or still write its certificate): a few seconds.
    await sleep(8_000);
    const activity = () => logLines(lb, /^ACME: new certificate in place|cannot be renewed/).length;
    const stamp = existsSync(join(dir, 'cert.pem')) ? statSync(join(dir, 'cert.pem')).mtimeMs : 0;
    const settled = activity();
    await sleep(15_000); // more than two renewal periods, many retry periods
    const starts = logLines(lb, /^ACME: keeping a certificate/).length;
    const after = existsSync(join(dir, 'cert.pem')) ? statSync(join(dir, 'cert.pem')).mtimeMs : 0;
    const story = logLines(lb, /ACME|reload|cannot be renewed/).map((l) => `${String(l['time'])} ${String(l['msg']).slice(0, 200)}`);
    console.log(`after https.acme was removed: "keeping a certificate" logged ${starts} time(s); ACME attempts in the 15 s after the removal settled: ${activity() - settled}\n${story.slice(0, 12).join('\n')}`);
    expect({ managersStarted: starts, attemptsAfterRemoval: activity() - settled, certificateRewritten: after !== stamp, acmeInStats: (await lb.stats()).acme !== undefined }).toEqual({
      managersStarted: 1,
      attemptsAfterRemoval: 0,
      certificateRewritten: false,
      acmeInStats: false,
    });
  }, 150_000);

  it('https.acme.caFile made unreadable or garbage, or acme removed leaving no certificate, on SIGHUP: refused with one line naming the key, the running certificate still served', async () => {
    const ca = join(work, 'ca-n3.pem');
    copyFileSync(pebble.tlsCertFile, ca);
    const s = settings('n3', join(work, 'n3'), {}, {}, pebble, ca);
    const lb = await start(s);
    await covered(lb);
    const before = await waitFor('the certificate to be served', () => tlsGet(ADDR.n3, httpsPort, name('n3'), root).catch(() => undefined), 15_000);
    rmSync(ca);
    await reload(lb);
    let error = (await lb.stats()).config.lastReloadError ?? '';
    expect(error).toMatch(/^invalid configuration \(\S+\): https\.acme\.caFile: cannot read \S*ca-n3\.pem: ENOENT$/);
    writeFileSync(ca, 'not a certificate\n');
    await reload(lb);
    error = (await lb.stats()).config.lastReloadError ?? '';
    expect(error).toMatch(/^invalid configuration \(\S+\): https\.acme\.caFile: \S*ca-n3\.pem holds no PEM certificate$/);
    const { acme: _removed, ...withoutAcme } = s.https;
    copyFileSync(pebble.tlsCertFile, ca);
    lb.writeConfig({ ...s, https: withoutAcme });
    await reload(lb);
    error = (await lb.stats()).config.lastReloadError ?? '';
    expect(error).toMatch(/^invalid configuration \(\S+\): https\.certificates: must list at least one/);
    expect(error).not.toContain('\n');
    expect((await acmeOf(lb))?.names[0].covered).toBe(true);
    const during = await tlsGet(ADDR.n3, httpsPort, name('n3'), root);
    expect(during.status).toBe(200);
    // (the certificate may have been renewed meanwhile: it is still one for the name, verified against pebble's root)
    expect(typeof before.fingerprint).toBe('string');
    lb.writeConfig(s);
    await reload(lb);
    expect((await lb.stats()).config.lastReloadError).toBeNull();
    for (const l of logLines(lb, /reload failed/)) expect(String(l['error'])).not.toMatch(/BEGIN|\n/);
  }, 120_000);

  it('SIGHUP adding a name to https.acme.names: a new certificate covering both is ordered and served, the old one served meanwhile', async () => {
    const s = settings('n3', join(work, 'n3-names'));
    const lb = await start(s);
    await covered(lb);
    const first = await waitFor('the certificate to be served', () => tlsGet(ADDR.n3, httpsPort, name('n3'), root).catch(() => undefined), 15_000);
    lb.writeConfig({ ...s, https: { ...s.https, acme: { ...s.https.acme, names: [name('n3'), name('n3b')] } } });
    await reload(lb);
    expect((await lb.stats()).config.lastReloadError).toBeNull();
    const both = await waitFor('a certificate for both names', async () => {
      const a = await acmeOf(lb);
      return a?.state === 'ok' && a.names.length === 2 && a.names.every((n) => n.covered) ? a : undefined;
    }, 60_000);
    expect(both.names.map((n) => n.name)).toEqual([name('n3'), name('n3b')]);
    const now = await waitFor('the new certificate to be served', async () => {
      const r = await tlsGet(ADDR.n3, httpsPort, name('n3b'), root).catch(() => undefined);
      return r?.status === 200 ? r : undefined;
    }, 15_000);
    expect(now.fingerprint).not.toBe(first.fingerprint);
  }, 150_000);

  it('the ACME server\'s TLS certificate rotated: the operator replaces caFile\'s content (same path) and sends SIGHUP; the next renewal uses it', async () => {
    const p2 = await Pebble.start({ dir: mkdtempSync(join(work, 'p2-')), dnsServer: `127.0.0.1:${bind.port}`, httpPort, validitySeconds: VALIDITY_S });
    extraPebbles.push(p2);
    const ca = join(work, 'ca-n6.pem');
    copyFileSync(p2.tlsCertFile, ca);
    const lb = await start(settings('n6', join(work, 'n6'), {}, {}, p2, ca));
    await covered(lb);
    // The ACME server gets a new TLS pair (same files, pebble restarted).
    await p2.stop();
    const dir = join(p2.tlsCertFile, '..');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'pebble-key.pem'), '-out', p2.tlsCertFile, '-days', '2', '-subj', '/CN=pebble-test-2', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    (p2 as unknown as { tlsCert: string }).tlsCert = readFileSync(p2.tlsCertFile, 'utf8');
    await p2.restart();
    const failing = await waitFor('renewal to fail on the unknown TLS certificate', async () => {
      const a = await acmeOf(lb);
      return a?.state === 'failing' ? a : undefined;
    }, 40_000);
    console.log(`rotated ACME TLS certificate: ${failing.names[0].lastError}`);
    copyFileSync(p2.tlsCertFile, ca);
    const t0 = Date.now();
    await reload(lb);
    expect((await lb.stats()).config.lastReloadError).toBeNull();
    const ok = await waitFor('a renewal with the new CA file', async () => {
      const a = await acmeOf(lb);
      const at = Date.parse(a?.names[0].lastSuccessAt ?? '');
      return a?.state === 'ok' && at > t0 ? a : undefined;
    }, 30_000).catch((e: Error) => e);
    if (ok instanceof Error) {
      console.log(`after SIGHUP with the new CA: ${JSON.stringify((await acmeOf(lb))?.names[0].lastError)}`);
    }
    expect(ok).not.toBeInstanceOf(Error);
  }, 150_000);

  it('acme.dir on a read-only file system: the renewal fails with one clear line naming the path, the old certificate stays on disk and served', async () => {
    const mnt = join(work, 'ro');
    mkdirSync(mnt);
    mount('-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt);
    mounts.push(mnt);
    const dir = join(mnt, 'acme');
    const lb = await start(settings('n4', dir));
    await covered(lb);
    const served = await waitFor('the certificate to be served', () => tlsGet(ADDR.n4, httpsPort, name('n4'), root).catch(() => undefined), 15_000);
    // Not while a renewal is writing: right after one.
    mount('-o', 'remount,ro', mnt);
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const failing = await waitFor('the renewal to fail', async () => {
      const a = await acmeOf(lb);
      return a?.state === 'failing' ? a : undefined;
    }, 40_000);
    const error = failing.names[0].lastError ?? '';
    console.log(`read-only acme.dir: ${error}`);
    expect(error).toMatch(/EROFS|read-only/i);
    expect(error).toContain(mnt);
    // A local file-system error, not the ACME server's: the line must not send the operator to the network.
    expect(error).not.toMatch(/ACME server \S+ unreachable/);
    expect(error).not.toContain('\n');
    expect(readFileSync(join(dir, 'cert.pem'), 'utf8')).toBe(cert);
    expect(pairMatches(join(dir, 'cert.pem'), join(dir, 'key.pem'))).toBe(true);
    const now = await tlsGet(ADDR.n4, httpsPort, name('n4'), root);
    expect(now.status).toBe(200);
    expect(new X509Certificate(cert).fingerprint256).toBe(now.fingerprint);
    expect(typeof served.fingerprint).toBe('string');
  }, 120_000);

  it('acme.dir on a full file system (room for the new key, not the chain): the pair on disk stays consistent, and after a restart lb still serves a certificate', async () => {
    const mnt = join(work, 'full');
    mkdirSync(mnt);
    mount('-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt);
    mounts.push(mnt);
    const dir = join(mnt, 'acme');
    const s = settings('n4', dir);
    let lb = await start(s);
    await covered(lb);
    const chainBytes = statSync(join(dir, 'cert.pem')).size;
    // One 4 KiB page left: a new key (and each challenge file) fits, a chain over one page does not.
    const fs = statfsSync(mnt);
    writeFileSync(join(mnt, 'filler'), Buffer.alloc((fs.bavail - 1) * fs.bsize));
    const failing = await waitFor('the renewal to fail', async () => {
      const a = await acmeOf(lb);
      return a?.state === 'failing' ? a : undefined;
    }, 40_000);
    await sleep(500);
    const observed: Record<string, unknown> = { chainOverOnePage: chainBytes > 4096, error: /ENOSPC/.test(failing.names[0].lastError ?? '') };
    observed['pairOnDiskMatches'] = pairMatches(join(dir, 'cert.pem'), join(dir, 'key.pem'));
    console.log(`full acme.dir (chain ${chainBytes} bytes): ${failing.names[0].lastError}; files: ${readdirSync(dir).join(' ')}`);
    // A restart (an upgrade, a crash) while the disk is still full: the certificate on disk is still valid.
    await kill(lb);
    lb = await start(s);
    observed['servedAfterRestart'] = await waitFor('a certificate to be served after the restart', () => tlsGet(ADDR.n4, httpsPort, name('n4'), root).then((r) => r.status === 200, () => undefined), 10_000).catch(() => false);
    expect(observed).toEqual({ chainOverOnePage: true, error: true, pairOnDiskMatches: true, servedAfterRestart: true });
  }, 150_000);

  it('SIGKILL in mid-order and right after pebble finalized: after each restart the files are a matching pair (or absent), the account key is reused, and lb gets its certificate', async () => {
    const dir = join(work, 'n5');
    const s = settings('n5', dir);
    let account: string | undefined;
    const seen: string[] = [];
    const moments: (number | 'finalizing')[] = [0, 400, 'finalizing', 900, 'finalizing'];
    for (const moment of moments) {
      const lb = await start(s);
      if (moment === 'finalizing') {
        const mark = finalizations;
        await waitFor('pebble to finalize an order', () => (finalizations > mark ? true : undefined), 40_000);
        await sleep(Math.floor(Math.random() * 150));
      } else {
        await waitFor('an order', async () => ((await acmeOf(lb))?.state === 'ordering' ? true : undefined), 40_000);
        await sleep(moment);
      }
      lb.child.kill('SIGKILL');
      await lb.exited;
      running.delete(lb);
      // Killed as the order begins (before the account key is made), lb may have written nothing yet.
      const files = existsSync(dir) ? readdirSync(dir) : [];
      seen.push(`${moment}: ${files.join(' ')}`);
      if (existsSync(join(dir, 'cert.pem')) || existsSync(join(dir, 'key.pem'))) expect([moment, pairMatches(join(dir, 'cert.pem'), join(dir, 'key.pem'))]).toEqual([moment, true]);
      if (existsSync(join(dir, 'account.key'))) {
        const now = readFileSync(join(dir, 'account.key'), 'utf8');
        account ??= now;
        expect(now).toBe(account);
      }
    }
    const lb = await start(s);
    await covered(lb);
    expect((await tlsGet(ADDR.n5, httpsPort, name('n5'), root)).status).toBe(200);
    expect(readFileSync(join(dir, 'account.key'), 'utf8')).toBe(account);
    const leftovers = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
    const stale = readdirSync(join(dir, 'challenges'));
    console.log(`SIGKILL rounds: ${seen.join(' | ')}; after recovery: temp files ${JSON.stringify(leftovers)}, challenge files ${JSON.stringify(stale)}`);
  }, 300_000);

  describe('the alert webhook', () => {
    let hook: Server;
    let hookMode: 'hang' | '500' | 'ok' = 'hang';
    const received: { url: string; auth?: string; body: string }[] = [];
    const held: IncomingMessage[] = [];
    let hookPort: number;

    beforeAll(async () => {
      hook = createServer((req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          received.push({ url: req.url ?? '', auth: req.headers['authorization'], body });
          if (hookMode === 'hang') return void held.push(req);
          res.statusCode = hookMode === '500' ? 500 : 200;
          res.end(hookMode === '500' ? 'boom' : 'ok');
        });
      });
      await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
      hookPort = (hook.address() as { port: number }).port;
    });

    afterAll(async () => {
      hook.closeAllConnections();
      await new Promise((r) => hook.close(r));
    });

    /** lb whose ACME server is unreachable and which has no certificate: an alert at the first failure. */
    const alerting = async (url: string) => {
      const dead = await freePort();
      return start(settings('n7', mkdtempSync(join(work, 'hook-')), { directoryUrl: `https://127.0.0.1:${dead}/dir` }), { LB_ALERT_WEBHOOK_URL: url });
    };

    it.each(['hang', '500'] as const)('a webhook that %s: lb keeps serving and answering /stats, the failed delivery is logged in one line, the URL\'s secret never appears', async (mode) => {
      hookMode = mode;
      const secret = `hook-secret-${mode}-777`;
      const n = received.length;
      const lb = await alerting(`http://127.0.0.1:${hookPort}/hook?token=${secret}`);
      await waitFor('the webhook to be called', () => (received.length > n ? true : undefined), 20_000);
      for (let i = 0; i < 4; i++) {
        const t = Date.now();
        await lb.stats();
        expect(Date.now() - t).toBeLessThan(1_500);
        const r = await rawText(httpPort, `GET /page HTTP/1.1\r\nHost: ${name('n7')}\r\nConnection: close\r\n\r\n`, 3_000, ADDR.n7);
        expect(r.text).toMatch(/^HTTP\/1\.1 308 /);
        expect(r.ms).toBeLessThan(1_500);
        await sleep(500);
      }
      const line = await waitFor('the failed delivery to be logged', () => logLines(lb, /^alert webhook delivery failed/)[0], 15_000);
      console.log(`webhook ${mode}: ${String(line['msg'])}`);
      expect(String(line['msg'])).toMatch(mode === 'hang' ? /no answer within 5 s/ : /answered 500/);
      const everything = [lb.output(), JSON.stringify(await lb.stats()), await (await fetch(`${lb.admin}/metrics`)).text(), await (await fetch(`${lb.admin}/`)).text()].join('\n');
      expect(everything).not.toContain(secret);
      expect(received[n].url).toContain(secret); // it was the webhook that was called
      for (const r of held.splice(0)) r.socket.destroy();
    }, 90_000);

    it('a webhook URL with user:password (basic auth): either refused at start naming LB_ALERT_WEBHOOK_URL, or the alert is delivered (Authorization header); the password never logged', async () => {
      hookMode = 'ok';
      const n = received.length;
      let lb: LbProcess | undefined;
      let refusal = '';
      try {
        lb = await alerting(`http://alerts:pa55-w0rd-secret@127.0.0.1:${hookPort}/hook`);
      } catch (e) {
        refusal = (e as Error).message;
      }
      if (lb === undefined) {
        expect(refusal).toMatch(/LB_ALERT_WEBHOOK_URL/);
        expect(refusal).not.toContain('pa55-w0rd-secret');
        return;
      }
      const outcome = await waitFor('a delivery or its failure', () => (received.length > n ? 'delivered' : logLines(lb as LbProcess, /^alert webhook delivery failed/)[0] ? String(logLines(lb as LbProcess, /^alert webhook delivery failed/)[0]['msg']) : undefined), 20_000);
      console.log(`webhook with credentials: ${outcome}`);
      expect(lb.output()).not.toContain('pa55-w0rd-secret');
      expect(outcome).toBe('delivered');
      expect(received[n].auth).toBe(`Basic ${Buffer.from('alerts:pa55-w0rd-secret').toString('base64')}`);
    }, 60_000);
  });
});
