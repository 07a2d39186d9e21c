import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import { freePort, workspaceRoot } from '@vita/testing';
import { CertificateSet } from './certificates';
import { httpsServer, newTicketKey } from './listener';
import { createServer, type Server } from 'node:http';
import { backendsOf, cleanup, FAST_CHECKS, raw, rawFor, startLbProcess, startTestLb, statusOf, TestBackend, type LbProcess, type TestLb } from '../../test/harness';

/*
 * The visitors' HTTPS listener, real TLS on loopback: certificates made with openssl in a temporary
 * directory, lb in this process (and, for session resumption across workers, the built bundle).
 */

const pki = mkdtempSync(join(tmpdir(), 'vita-lb-https-'));
const file = (name: string) => join(pki, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: ['ignore', 'ignore', 'pipe'] });
/** A server certificate signed by the test CA for `san` (`DNS:a.test,…`), in `<name>.crt` / `<name>.key`. */
const leaf = (name: string, san: string) => {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`));
  writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.crt`));
};

interface TlsReply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
  cert: PeerCertificate;
  protocol: string | null;
  alpn: string | false | null;
  localPort: number;
}

/** One HTTPS GET verified against the test CA (a fresh connection unless an agent is given). */
function get(port: number, servername: string, path = '/echo', headers: Record<string, string> = {}, agent: Agent | false = false): Promise<TlsReply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, servername, ca: readFileSync(file('ca.crt')), agent, headers: { host: servername, ...headers }, timeout: 10_000 }, (res) => {
      const socket = res.socket as TLSSocket;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers, cert: socket.getPeerCertificate(), protocol: socket.getProtocol(), alpn: socket.alpnProtocol, localPort: socket.localPort ?? 0 }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** A bare TLS handshake: resolves with the socket once connected (the caller ends it), rejects if the handshake fails. */
function handshake(port: number, options: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(file('ca.crt')), servername: 'a.test', ...options });
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('handshake timed out'))), 5000);
    socket.once('secureConnect', () => (clearTimeout(timer), resolve(socket)));
    socket.once('error', (err) => (clearTimeout(timer), reject(err)));
  });
}

/** A GET on a bare TLS connection; resolves with the session lb issued (TLS 1.3 sends it after the handshake) and whether this one was resumed. */
function sessionGet(port: number, session?: Buffer): Promise<{ session: Buffer | undefined; reused: boolean; status: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: readFileSync(file('ca.crt')), servername: 'a.test', session });
    let issued: Buffer | undefined;
    let reused = false;
    let text = '';
    const timer = setTimeout(() => (socket.destroy(), reject(new Error('no answer within 5 s'))), 5000);
    socket.on('session', (s: Buffer) => (issued = s));
    socket.once('secureConnect', () => ((reused = socket.isSessionReused()), socket.write('GET /echo HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n')));
    socket.on('data', (d: Buffer) => (text += d.toString()));
    socket.once('close', () => (clearTimeout(timer), resolve({ session: issued, reused, status: statusOf(text) })));
    let secured = false;
    socket.once('secureConnect', () => (secured = true));
    socket.once('error', (err) => (clearTimeout(timer), reject(new Error(`${err.message} (${session ? 'resuming a session' : 'a new session'}; handshake ${secured ? 'done' : 'not done'}; ${text.length} bytes received)`))));
  });
}

const sanOf = (cert: PeerCertificate) => cert.subjectaltname ?? '';

beforeAll(() => {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=Vita Test CA', '-keyout', file('ca.key'), '-out', file('ca.crt'));
  leaf('a', 'DNS:a.test,DNS:*.wild.test');
  leaf('b', 'DNS:b.test');
  leaf('b2', 'DNS:b.test');
});

afterAll(async () => {
  await cleanup();
  rmSync(pki, { recursive: true, force: true });
});

describe('HTTPS termination (real TLS on loopback)', () => {
  let backend: TestBackend;
  let lb: TestLb;
  let httpsPort: number;
  const challenges = join(pki, 'challenges');

  beforeAll(async () => {
    mkdirSync(challenges);
    // b's files are the ones replaced below: lb reads copies.
    copyFileSync(file('b.crt'), file('live-b.crt'));
    copyFileSync(file('b.key'), file('live-b.key'));
    backend = await TestBackend.start('h1');
    httpsPort = await freePort();
    lb = await startTestLb({
      backends: backendsOf(backend),
      healthCheck: FAST_CHECKS,
      https: {
        listen: `127.0.0.1:${httpsPort}`,
        certificates: [
          { cert: file('a.crt'), key: file('a.key') },
          { cert: file('live-b.crt'), key: file('live-b.key') },
        ],
        names: ['configured.test'],
        challengesDir: challenges,
        pollMs: 500,
      },
    });
  }, 60_000);

  afterAll(() => lb?.stop());

  it('answers a GET over HTTPS, verified against the CA, the backend sees X-Forwarded-Proto https (a client-sent one replaced)', async () => {
    const reply = await get(httpsPort, 'a.test', '/echo', { 'X-Forwarded-Proto': 'http' });
    expect(reply.status).toBe(200);
    const seen = JSON.parse(reply.body) as { headers: Record<string, string> };
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    // On the plain listener (a /health/* path goes through), http.
    const plain = await raw(lb.port, 'GET /health/ready HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n');
    expect(statusOf(plain.text)).toBe(200);
  });

  it('picks the certificate by SNI (exact and one-label wildcard); an unknown name or none gets the first', async () => {
    expect(sanOf((await get(httpsPort, 'b.test', '/health/ready')).cert)).toBe('DNS:b.test');
    expect(sanOf((await get(httpsPort, 'a.test', '/health/ready')).cert)).toContain('DNS:a.test');
    const wild = await handshake(httpsPort, { servername: 'x.wild.test' });
    expect(sanOf(wild.getPeerCertificate())).toContain('DNS:*.wild.test');
    wild.destroy();
    const unknown = await handshake(httpsPort, { servername: 'unknown.test', checkServerIdentity: () => undefined });
    expect(sanOf(unknown.getPeerCertificate())).toContain('DNS:a.test');
    unknown.destroy();
    // Two labels under a wildcard: not its name (the default one answers, which does not name it either).
    await expect(handshake(httpsPort, { servername: 'y.x.wild.test' })).rejects.toThrow(/altnames|does not match/i);
  });

  it('speaks TLS 1.2 (intermediate suites only) and 1.3 (ALPN http/1.1 even when h2 is offered) and refuses TLS 1.1', async () => {
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const socket = await handshake(httpsPort, { minVersion: version, maxVersion: version, ALPNProtocols: ['h2', 'http/1.1'] });
      expect(socket.getProtocol()).toBe(version);
      expect(socket.alpnProtocol).toBe('http/1.1');
      socket.destroy();
    }
    await expect(handshake(httpsPort, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).rejects.toThrow();
    // TLS 1.2 with a CBC suite Node would take by default: not in the intermediate list.
    await expect(handshake(httpsPort, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256' })).rejects.toThrow();
    const gcm = await handshake(httpsPort, { maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' });
    expect(gcm.getCipher().standardName).toBe('TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256');
    gcm.destroy();
  });

  it('redirects plain HTTP with 308 to https on the same host and path (the https port added), keeping the connection', async () => {
    const reply = await raw(lb.port, 'GET /some/page?x=1&y=2 HTTP/1.1\r\nHost: a.test:8080\r\n\r\n', { pauseMs: 200 }, 'GET /two HTTP/1.1\r\nHost: configured.test\r\nConnection: close\r\n\r\n');
    const [first, second] = reply.text.split(/(?=HTTP\/1\.1 )/);
    expect(statusOf(first)).toBe(308);
    expect(first).toContain(`\r\nLocation: https://a.test:${httpsPort}/some/page?x=1&y=2\r\n`);
    expect(first).toMatch(/\r\nContent-Length: 0\r\n/i);
    expect(first).not.toMatch(/\r\nConnection: close/i);
    expect(statusOf(second)).toBe(308);
    expect(second).toContain(`Location: https://configured.test:${httpsPort}/two\r\n`);
  });

  it('never redirects to a host it does not serve: 400, the Host not echoed', async () => {
    const reply = await raw(lb.port, 'GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
    expect(statusOf(reply.text)).toBe(400);
    expect(reply.text).not.toContain('evil.example');
    expect(reply.text).not.toMatch(/Location:/i);
  });

  it('answers ACME http-01 challenges on plain HTTP from the challenge directory (404 for an unknown token)', async () => {
    writeFileSync(join(challenges, 'tok_en-1'), 'tok_en-1.thumbprint\n');
    const found = await raw(lb.port, 'GET /.well-known/acme-challenge/tok_en-1 HTTP/1.1\r\nHost: anything.example\r\nConnection: close\r\n\r\n');
    expect(statusOf(found.text)).toBe(200);
    expect(found.text.endsWith('\r\n\r\ntok_en-1.thumbprint')).toBe(true);
    const missing = await raw(lb.port, 'GET /.well-known/acme-challenge/nope HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
    expect(statusOf(missing.text)).toBe(404);
    const traversal = await raw(lb.port, 'GET /.well-known/acme-challenge/..%2Fca.key HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
    expect(statusOf(traversal.text)).toBe(404);
  });

  it('shows each certificate with its names, issuer and expiry in /stats and /metrics', async () => {
    const stats = await lb.stats();
    const a = stats.certificates?.find((c) => c.file === file('a.crt'));
    expect(a).toMatchObject({ names: ['a.test', '*.wild.test'], lastReloadError: null });
    expect(a?.issuer).toContain('Vita Test CA');
    expect(a?.daysLeft).toBe(1);
    const metrics = await (await fetch(`${lb.admin}/metrics`)).text();
    const expiry = Math.floor(Date.parse(a?.notAfter ?? '') / 1000);
    expect(metrics).toContain(`lb_certificate_expiry_timestamp_seconds{name="a.test",file="${file('a.crt')}"} ${expiry}`);
    expect(metrics).toContain(`lb_certificate_reload_failed{file="${file('live-b.crt')}"} 0`);
  });

  it('serves a replaced certificate file without a restart, leaving an in-flight keep-alive connection alone', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = await get(httpsPort, 'b.test', '/health/ready', {}, agent);
      const slow = get(httpsPort, 'b.test', '/slow?ms=1500', {}, agent);
      copyFileSync(file('b2.key'), file('live-b.key'));
      copyFileSync(file('b2.crt'), file('live-b.crt'));
      expect(lb.lb.reloadCertificates()).toBe(true);
      const during = await slow;
      expect(during.status).toBe(200);
      expect(during.localPort).toBe(before.localPort);
      expect(during.cert.fingerprint256).toBe(before.cert.fingerprint256);
      const fresh = await get(httpsPort, 'b.test', '/health/ready');
      expect(fresh.cert.fingerprint256).not.toBe(before.cert.fingerprint256);
      expect(fresh.cert.serialNumber).toBe(readSerial('b2.crt'));
    } finally {
      agent.destroy();
    }
  });

  it('refuses a bad certificate with one line naming the file, keeping the one in force (found by polling)', async () => {
    const serving = (await get(httpsPort, 'b.test', '/health/ready')).cert.fingerprint256;
    writeFileSync(file('live-b.crt'), 'not a certificate\n');
    const refused = await waitFor(async () => (await lb.stats()).certificates?.find((c) => c.file === file('live-b.crt'))?.lastReloadError ?? undefined);
    expect(refused).toBe(`https.certificates: ${file('live-b.crt')} is not a PEM certificate`);
    expect((await get(httpsPort, 'b.test', '/health/ready')).cert.fingerprint256).toBe(serving);
    // A key that does not belong to the certificate: refused too.
    copyFileSync(file('b.crt'), file('live-b.crt'));
    copyFileSync(file('a.key'), file('live-b.key'));
    expect(lb.lb.reloadCertificates()).toBe(false);
    expect((await lb.stats()).certificates?.[1].lastReloadError).toBe(`https.certificates: the key ${file('live-b.key')} does not match the certificate ${file('live-b.crt')}`);
    expect((await get(httpsPort, 'b.test', '/health/ready')).cert.fingerprint256).toBe(serving);
  });

  it('reads the certificates again on SIGHUP (a reload); a bad file refuses the whole reload, naming it', async () => {
    writeFileSync(file('live-b.key'), 'not a key\n');
    expect(lb.lb.reload()).toBe(false);
    expect((await lb.stats()).config.lastReloadError).toContain(`https.certificates: ${file('live-b.key')} is not a PEM private key`);
    copyFileSync(file('b.key'), file('live-b.key'));
    expect(lb.lb.reload()).toBe(true);
    const served = (await get(httpsPort, 'b.test', '/health/ready')).cert.serialNumber;
    expect(served).toBe(readSerial('b.crt'));
    expect((await lb.stats()).certificates?.[1]).toMatchObject({ names: ['b.test'], lastReloadError: null });
  });
});

const readSerial = (name: string) => /serial=([0-9A-F]+)/.exec(execFileSync('openssl', ['x509', '-noout', '-serial', '-in', file(name)]).toString())?.[1];

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('ACME challenges asked of the other nodes (https.challengePeers)', () => {
  let backend: TestBackend;
  let lb: TestLb;
  let peer: Server;
  const asked: { url: string; hop: string | undefined }[] = [];
  let peerDelayMs = 0;

  beforeAll(async () => {
    // Stands in for another node's plain listener: knows one token, answers after peerDelayMs.
    peer = createServer((req, res) => {
      asked.push({ url: req.url ?? '', hop: req.headers['x-vita-acme-peer'] as string | undefined });
      setTimeout(() => {
        if (req.url === '/.well-known/acme-challenge/peer_tok') res.writeHead(200).end('peer_tok.thumb\n');
        else res.writeHead(404).end();
      }, peerDelayMs);
    });
    await new Promise<void>((r) => peer.listen(0, '127.0.0.1', () => r()));
    backend = await TestBackend.start('p1');
    lb = await startTestLb({
      backends: backendsOf(backend),
      healthCheck: FAST_CHECKS,
      https: { listen: `127.0.0.1:${await freePort()}`, certificates: [{ cert: file('a.crt'), key: file('a.key') }], redirectHttp: false, challengePeers: [`http://127.0.0.1:${(peer.address() as { port: number }).port}`] },
    });
  }, 60_000);

  afterAll(async () => {
    await lb?.stop();
    await new Promise<void>((r) => peer.close(() => r()));
  });

  it('answers a token only a peer holds, marked so the peer does not ask further; plain requests still reach the backends (redirectHttp off)', async () => {
    const found = await raw(lb.port, 'GET /.well-known/acme-challenge/peer_tok HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
    expect(statusOf(found.text)).toBe(200);
    expect(found.text.endsWith('\r\n\r\npeer_tok.thumb')).toBe(true);
    expect(asked.at(-1)).toEqual({ url: '/.well-known/acme-challenge/peer_tok', hop: '1' });
    // A request that a peer forwarded is answered from this node only.
    const before = asked.length;
    const forwarded = await raw(lb.port, 'GET /.well-known/acme-challenge/peer_tok HTTP/1.1\r\nHost: a.test\r\nx-vita-acme-peer: 1\r\nConnection: close\r\n\r\n');
    expect(statusOf(forwarded.text)).toBe(404);
    expect(asked.length).toBe(before);
    const page = await raw(lb.port, 'GET /echo HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
    expect(statusOf(page.text)).toBe(200);
  });

  it('keeps pipelined answers in order behind a slow peer, and survives the client leaving while it waits', async () => {
    peerDelayMs = 300;
    try {
      const both = await raw(lb.port, 'GET /.well-known/acme-challenge/peer_tok HTTP/1.1\r\nHost: a.test\r\n\r\nGET /echo?second HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
      const first = both.text.indexOf('peer_tok.thumb');
      const second = both.text.indexOf('/echo?second');
      expect(first).toBeGreaterThan(0);
      expect(second).toBeGreaterThan(first);
      // The client goes away before the peer answers: lb carries on.
      await rawFor(50, lb.port, 'GET /.well-known/acme-challenge/peer_tok HTTP/1.1\r\nHost: a.test\r\n\r\n');
      await new Promise((r) => setTimeout(r, 400));
      const after = await raw(lb.port, 'GET /health/ready HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n');
      expect(statusOf(after.text)).toBe(200);
      expect((await lb.stats()).frontend.active).toBe(0);
    } finally {
      peerDelayMs = 0;
    }
  });
});

describe('HTTPS session tickets', () => {
  /** Two listeners with the given ticket keys; whether a session from the first resumes on the second. */
  const resumesAcross = async (first: Buffer, second: Buffer) => {
    const certs = new CertificateSet();
    certs.load([{ cert: file('a.crt'), key: file('a.key') }], true);
    const servers = [httpsServer(certs, first, 5000, (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')), httpsServer(certs, second, 5000, (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'))];
    const ports = await Promise.all(servers.map((s) => new Promise<number>((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)))));
    try {
      const issued = await sessionGet(ports[0]);
      return (await sessionGet(ports[1], issued.session)).reused;
    } finally {
      servers.forEach((s) => s.close());
    }
  };

  it('resume on another listener with the same key (what every worker gets from the primary), not with another', async () => {
    const key = newTicketKey();
    expect(await resumesAcross(key, Buffer.from(key))).toBe(true);
    expect(await resumesAcross(key, newTicketKey())).toBe(false);
  });
});

describe('HTTPS listener sockets', () => {
  it('send a small write at once, not after the client acknowledges the one before (Nagle off, as on the plain listener)', async () => {
    // Request and answer in turn, each answer in two writes 3 ms apart (a backend's head, then its
    // body: lb writes what it has). With Nagle's algorithm the second write waits for the client's
    // delayed ACK of the first, about 40 ms each time once the exchange has settled into turns.
    const exchanges = 40;
    const certs = new CertificateSet();
    certs.load([{ cert: file('a.crt'), key: file('a.key') }], true);
    const server = httpsServer(certs, newTicketKey(), 5000, (socket) => {
      socket.on('data', () => {
        socket.write('head;');
        setTimeout(() => socket.write('body\n'), 3);
      });
    });
    const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as { port: number }).port)));
    try {
      const socket = await handshake(port, {});
      let text = '';
      let answered: () => void = () => undefined;
      socket.on('data', (d: Buffer) => ((text += d.toString()), text.endsWith('\n') && answered()));
      const took: number[] = [];
      for (let i = 0; i < exchanges; i++) {
        const started = Date.now();
        await new Promise<void>((resolve) => ((answered = resolve), socket.write('request')));
        took.push(Date.now() - started);
      }
      socket.end();
      expect(text).toBe('head;body\n'.repeat(exchanges));
      // A stalled exchange takes 40 ms or more (Linux's shortest delayed ACK), one without a stall
      // about 4 ms: with Nagle on every one stalls (40 of 40 here); a busy machine slows some down.
      expect(took.filter((ms) => ms >= 35).length).toBeLessThan(exchanges / 2);
    } finally {
      server.close();
    }
  });
});

describe('HTTPS session resumption across workers (the built bundle, 2 workers)', () => {
  const dist = join(workspaceRoot(), 'dist', 'apps', 'lb');
  let backend: TestBackend;
  let lb: LbProcess;
  let httpsPort: number;

  beforeAll(async () => {
    if (!existsSync(join(dist, 'main.js'))) throw new Error(`${dist} has no bundle: run \`npx nx build lb\``);
    backend = await TestBackend.start('r1');
    httpsPort = await freePort();
    lb = await startLbProcess(dist, { workers: 2, backends: backendsOf(backend), healthCheck: FAST_CHECKS, https: { listen: `127.0.0.1:${httpsPort}`, certificates: [{ cert: file('a.crt'), key: file('a.key') }] } });
  }, 60_000);

  /**
   * One connection; a reset connection is tried once more, and reported. (Once in about seventy runs
   * on a loaded machine, on Node 22, a connection was reset by the peer; not reproduced with lb's
   * TLS errors logged, 40 runs. What this test checks is resumption, whichever worker answers.)
   */
  const get = (session?: Buffer) =>
    sessionGet(httpsPort, session).catch((err: Error) => {
      console.warn(`an HTTPS connection to lb failed (${err.message}); trying once more. lb's output:\n${lb.output().slice(-2000)}`);
      return sessionGet(httpsPort, session);
    });

  it('resumes a session on new connections, whichever worker takes them', async () => {
    const first = await get();
    expect(first).toMatchObject({ reused: false, status: 200 });
    expect(first.session).toBeDefined();
    // The primary hands connections to the workers in turn: six in a row reach both.
    for (let i = 0; i < 6; i++) expect(await get(first.session)).toMatchObject({ reused: true, status: 200 });
    expect((await lb.stats()).workers).toBe(2);
  });
});
