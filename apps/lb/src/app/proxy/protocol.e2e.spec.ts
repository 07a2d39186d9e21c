import { sleep } from '@vita/mariadb';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendsOf, cleanup, raw, rawFor, send, startTestLb, statusOf, TestBackend, TestLb, waitFor } from '../../test/harness';

describe('lb protocol handling (real backend processes on loopback)', () => {
  let a: TestBackend;
  let lb: TestLb;
  const logDir = mkdtempSync(join(tmpdir(), 'vita-lb-log-'));
  const accessLog = join(logDir, 'access.log');

  beforeAll(async () => {
    a = await TestBackend.start('a');
    lb = await startTestLb({ backends: backendsOf(a), timeouts: { headersMs: 500, requestMs: 1500, clientKeepAliveMs: 800, tunnelIdleMs: 1000 }, limits: { maxHeaderBytes: 8192 }, accessLog: { to: accessLog } });
  });
  afterAll(async () => {
    await lb.stop();
    await cleanup();
    rmSync(logDir, { recursive: true, force: true });
  });

  describe('headers', () => {
    it('sets X-Forwarded-*, keeps a valid request id and echoes it, strips hop-by-hop headers both ways', async () => {
      const reply = await send(`${lb.url}/echo`, { headers: { 'X-Forwarded-For': '203.0.113.9', 'X-Request-Id': 'trace-42', Connection: 'keep-alive, X-Private', 'X-Private': 'p', 'Keep-Alive': 'timeout=9', 'X-Custom': 'c' } });
      const seen = JSON.parse(reply.body) as { headers: Record<string, string> };
      // lb does not trust this client, so the forwarded chain it claims is replaced.
      expect(seen.headers).toMatchObject({ 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-host': `127.0.0.1:${lb.port}`, 'x-request-id': 'trace-42', 'x-custom': 'c' });
      expect(seen.headers['x-private']).toBeUndefined();
      expect(seen.headers['keep-alive']).toBeUndefined();
      expect(reply.headers['x-request-id']).toBe('trace-42');

      const made = await send(`${lb.url}/echo`, { headers: { 'X-Request-Id': 'bad id with spaces' } });
      expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect((JSON.parse(made.body) as { headers: Record<string, string> }).headers['x-request-id']).toBe(made.headers['x-request-id']);

      const hop = await send(`${lb.url}/hop`);
      expect(hop.headers['x-end']).toBe('kept');
      expect(hop.headers['x-hop']).toBeUndefined();
    });

    it('appends to the forwarded chain of a trusted proxy', async () => {
      const trusting = await startTestLb({ backends: backendsOf(a), trustedProxies: ['127.0.0.0/8'] });
      try {
        const reply = await send(`${trusting.url}/echo`, { headers: { 'X-Forwarded-For': '203.0.113.9', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'www.example.org' } });
        expect((JSON.parse(reply.body) as { headers: Record<string, string> }).headers).toMatchObject({ 'x-forwarded-for': '203.0.113.9, 127.0.0.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'www.example.org' });
      } finally {
        await trusting.stop();
      }
    });

    it('reads a response whose header block arrives in two packets', async () => {
      const reply = await send(`${lb.url}/split-head`);
      expect([reply.status, reply.headers['x-part'], reply.headers['x-part-two'], reply.body]).toEqual([200, 'one', 'two', 'split']);
    });

    it('passes HEAD and error statuses through without inventing a body', async () => {
      const head = await send(`${lb.url}/anything`, { method: 'HEAD' });
      expect([head.status, head.body, head.headers['content-length']]).toEqual([200, '', String(Buffer.byteLength('a HEAD /anything'))]);
      expect((await send(`${lb.url}/status/404`)).status).toBe(404);
      expect((await send(`${lb.url}/status/204`)).body).toBe('');
    });
  });

  describe('streaming', () => {
    it('streams the response: the first part arrives before the backend sends the rest', async () => {
      const started = Date.now();
      const firstChunkAfter = await new Promise<number>((resolve, reject) => {
        request(`${lb.url}/drip`, (res) => {
          res.once('data', () => resolve(Date.now() - started));
          res.resume();
        }).on('error', reject).end();
      });
      expect(firstChunkAfter).toBeLessThan(250);
    });

    /** POSTs `first` to /first-chunk, and the rest only once the backend has answered the first part. */
    const interactiveUpload = (headers: Record<string, string>, first: string) =>
      new Promise<string>((resolve, reject) => {
        const req = request(`${lb.url}/first-chunk`, { method: 'POST', headers }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => {
            if (body === '') req.end('world');
            body += d.toString();
          });
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.write(first);
      });

    it('streams the request body: the backend answers before the client has finished sending', async () => {
      expect(await interactiveUpload({ 'Content-Length': '10' }, 'hello')).toBe('got hello | end');
    });

    it('streams a chunked body past chunkedBodyBufferBytes (64 KiB)', async () => {
      const reply = await interactiveUpload({ 'Transfer-Encoding': 'chunked' }, 'c'.repeat(100_000));
      expect(reply).toMatch(/^got c+ \| end$/);
    });

    it('reads a small chunked body whole first: bad chunking in a later packet never reaches the backend', async () => {
      await send(`${lb.url}/warm`);
      const before = (await a.stats()).requests;
      const reply = await raw(lb.port, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', { pauseMs: 200 }, 'ZZ\r\nbad\r\n0\r\n\r\n');
      expect(statusOf(reply.text)).toBe(400);
      expect(reply.closed).toBe(true);
      await sleep(50);
      expect((await a.stats()).requests).toBe(before);
      // The same body, well formed and in two packets, arrives whole.
      const good = await raw(lb.port, 'POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n', { pauseMs: 200 }, '6\r\n world\r\n0\r\n\r\n');
      expect(statusOf(good.text)).toBe(200);
      expect((JSON.parse(good.text.slice(good.text.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, '')) as { body: string }).body).toBe('hello world');
    });

    it('holds the backend back while the client reads slowly (backpressure), then delivers every byte', async () => {
      const mb = 128;
      const received = await new Promise<number>((resolve, reject) => {
        request(`${lb.url}/big?mb=${mb}`, (res) => {
          res.pause();
          setTimeout(async () => {
            // Only socket buffers and lb's small write buffer are in between: far from the whole body.
            const sent = (await a.stats()).bigSent;
            if (sent > 48 * 1024 * 1024) reject(new Error(`the backend sent ${sent} bytes to a client that read nothing`));
            let n = 0;
            res.on('data', (d: Buffer) => (n += d.length));
            res.on('end', () => resolve(n));
            res.resume();
          }, 500);
        }).on('error', reject).end();
      });
      expect(received).toBe(mb * 1024 * 1024);
    });

    it('carries a large chunked upload intact', async () => {
      const body = 'x'.repeat(300_000);
      const reply = await send(`${lb.url}/echo`, { method: 'PUT', body, headers: { 'Content-Type': 'text/plain' } });
      expect((JSON.parse(reply.body) as { body: string }).body).toHaveLength(body.length);
    });

    it('cancels the upstream request when the client goes away', async () => {
      const before = (await a.stats()).aborted;
      const req = request(`${lb.url}/slow?ms=3000`);
      req.on('error', () => undefined);
      req.end();
      await waitFor('the request to reach the backend', async () => ((await lb.stats()).backends[0].active === 1 ? true : undefined));
      req.destroy();
      await waitFor('the backend to see the request cancelled', async () => ((await a.stats()).aborted === before + 1 ? true : undefined), 2000);
      await waitFor('lb to count the abort', async () => ((await lb.stats()).frontend.clientAborts >= 1 ? true : undefined), 2000);
    });
  });

  describe('WebSocket', () => {
    const upgrade = (extra = '') =>
      `GET /ws HTTP/1.1\r\nHost: lb\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

    async function open(): Promise<{ socket: Socket; head: string }> {
      const socket = connect(lb.port, '127.0.0.1');
      // lb resets a tunnel it tears down.
      socket.on('error', () => undefined);
      socket.write(upgrade());
      const head = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
      return { socket, head };
    }

    it('passes an upgrade through and echoes both ways; closing either side closes the other', async () => {
      const { socket, head } = await open();
      expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols/);
      expect(head).toMatch(/\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
      socket.write('ping');
      expect(await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())))).toBe('ping');
      expect((await a.stats()).openUpgrades).toBe(1);
      expect((await lb.stats()).frontend.websockets).toBe(1);

      // The client disappears: lb closes the backend side.
      socket.destroy();
      await waitFor('the backend side to close', async () => ((await a.stats()).openUpgrades === 0 ? true : undefined), 3000);

      // The backend hangs up: lb closes the client side.
      const second = await open();
      const closed = new Promise((resolve) => second.socket.once('close', resolve));
      second.socket.write('close');
      await closed;
      await waitFor('lb to forget both tunnels', async () => ((await lb.stats()).frontend.websockets === 0 ? true : undefined), 2000);
      expect((await lb.stats()).backends[0].active).toBe(0);
    });

    it('closes a tunnel idle for tunnelIdleMs (both sides), not one in use', async () => {
      const busy = await open();
      const idle = await open();
      const idleClosed = new Promise<number>((resolve) => idle.socket.once('close', () => resolve(Date.now())));
      const openedAt = Date.now();
      let echoed = '';
      busy.socket.on('data', (d: Buffer) => (echoed += d.toString()));
      for (let i = 0; i < 4; i++) {
        busy.socket.write('.');
        await sleep(400);
      }
      expect(await idleClosed).toBeGreaterThanOrEqual(openedAt + 900);
      expect(busy.socket.destroyed).toBe(false);
      expect(echoed).toBe('....');
      await waitFor('the backend side of the idle tunnel to close', async () => ((await a.stats()).openUpgrades === 1 ? true : undefined), 2000);
      busy.socket.destroy();
      await waitFor('both tunnels gone', async () => ((await a.stats()).openUpgrades === 0 ? true : undefined), 2000);
    });

    it('refuses upgrades that are not WebSocket GETs', async () => {
      expect(statusOf((await raw(lb.port, upgrade().replace('GET', 'POST'))).text)).toBe(400);
      expect(statusOf((await raw(lb.port, upgrade().replace('Upgrade: websocket', 'Upgrade: h2c'))).text)).toBe(400);
    });
  });

  describe('client connections', () => {
    /** Status codes of the responses in raw response text, in order (100 Continue included; no body here contains a status line). */
    const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));

    it('forwards a request with a long header block (handed over by the parser in pieces) whole', async () => {
      const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`x-h${i}`, `v${i}`]));
      const reply = await send(`${lb.url}/echo?long=${'q'.repeat(200)}`, { headers: many });
      const echoed = JSON.parse(reply.body) as { url: string; headers: Record<string, string> };
      expect(echoed.url).toBe(`/echo?long=${'q'.repeat(200)}`);
      for (let i = 0; i < 60; i++) expect(echoed.headers[`x-h${i}`]).toBe(`v${i}`);
    });

    it('answers pipelined requests in order, each from the backend', async () => {
      const get = (path: string, close = false) => `GET ${path} HTTP/1.1\r\nHost: x\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
      const reply = await raw(lb.port, get('/status/201') + get('/slow?ms=150') + get('/status/202', true));
      expect(statuses(reply.text)).toEqual([201, 200, 202]);
      expect(reply.text.indexOf('a GET /status/201')).toBeLessThan(reply.text.indexOf('a slow'));
      expect(reply.text.indexOf('a slow')).toBeLessThan(reply.text.indexOf('a GET /status/202'));
      expect(reply.closed).toBe(true);
    });

    it('re-frames a chunked response: chunked to an HTTP/1.1 client, delimited by closing for HTTP/1.0', async () => {
      const v11 = await raw(lb.port, 'GET /drip HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(v11.text).toMatch(/\r\nTransfer-Encoding: chunked\r\n/i);
      expect(v11.text.endsWith('\r\n0\r\n\r\n')).toBe(true);
      const v10 = await raw(lb.port, 'GET /drip HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
      expect(v10.text).not.toMatch(/transfer-encoding/i);
      expect(v10.text).toMatch(/\r\nConnection: close\r\n/i);
      expect(v10.text.endsWith('\r\n\r\nfirst;second')).toBe(true);
      expect(v10.closed).toBe(true);
    });

    it('keeps an HTTP/1.0 keep-alive connection open when the length is known, and closes idle connections', async () => {
      const socket = connect(lb.port, '127.0.0.1');
      const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
      socket.write('GET /status/200 HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
      await waitFor('the response', () => (text.includes('a GET /status/200') ? true : undefined), 2000);
      const answeredAt = Date.now();
      expect(text).toMatch(/\r\nConnection: keep-alive\r\n/i);
      // Idle past clientKeepAliveMs (800 ms): lb closes it.
      const closedAt = await closed;
      expect(closedAt - answeredAt).toBeGreaterThanOrEqual(700);
    });

    it('answers Expect: 100-continue itself and forwards the body, without the Expect header', async () => {
      const reply = await raw(lb.port, 'POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n', { pauseMs: 150 }, 'hello');
      expect(statuses(reply.text)).toEqual([100, 200]);
      const echoed = JSON.parse(reply.text.slice(reply.text.lastIndexOf('\r\n\r\n') + 4)) as { body: string; headers: Record<string, string> };
      expect(echoed.body).toBe('hello');
      expect(echoed.headers['expect']).toBeUndefined();
    });

    it('refuses an expectation it cannot meet with 417, never forwarded', async () => {
      const before = (await a.stats()).requests;
      const reply = await raw(lb.port, 'POST /echo HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 2\r\n\r\nhi');
      expect(statusOf(reply.text)).toBe(417);
      expect(reply.closed).toBe(true);
      expect((await a.stats()).requests).toBe(before);
    });
  });

  describe('hostile and malformed requests from a raw socket', () => {
    const hostile: [string, (string | { pauseMs: number })[], number][] = [
      ['Content-Length with Transfer-Encoding (CL.TE smuggling)', ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'], 400],
      ['obfuscated Transfer-Encoding (TE.TE)', ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 4\r\n\r\nabcd'], 400],
      ['space before the colon', ['POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'], 400],
      ['two different Content-Lengths', ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde'], 400],
      ['bad chunk size', ['POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nhello\r\n0\r\n\r\n'], 400],
      ['bare CR in a header value', ['GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n'], 400],
      ['no Host header', ['GET / HTTP/1.1\r\nAccept: */*\r\n\r\n'], 400],
      ['garbage request line', ['G@T / HTTP/1.1\r\nHost: x\r\n\r\n'], 400],
      ['absolute-URI target (open proxy attempt)', ['GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n'], 400],
      ['asterisk target', ['OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n'], 400],
      ['CONNECT (tunnel attempt)', ['CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n'], 405],
      ['oversized headers', [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(10_000)}\r\n\r\n`], 431],
    ];

    it.each(hostile)('%s: rejected, never forwarded', async (_name, parts, status) => {
      // A pooled connection to the backend is ready, so nothing but lb's checks holds a request back.
      await send(`${lb.url}/warm`);
      const before = (await a.stats()).requests;
      const reply = await raw(lb.port, ...parts);
      expect(statusOf(reply.text)).toBe(status);
      expect(reply.closed).toBe(true);
      await sleep(50);
      expect((await a.stats()).requests).toBe(before);
    });

    it('slow headers (slowloris): 408 and the connection closed after headersMs', async () => {
      const before = (await a.stats()).requests;
      const started = Date.now();
      const reply = await rawFor(4000, lb.port, 'GET / HTTP/1.1\r\nHost: x\r\n', { pauseMs: 300 }, 'X-A: 1\r\n', { pauseMs: 300 }, 'X-B: 2\r\n');
      expect(statusOf(reply.text)).toBe(408);
      expect(reply.closed).toBe(true);
      expect(Date.now() - started).toBeLessThan(2500);
      expect((await a.stats()).requests).toBe(before);
    });

    it('slow body: 408 after requestMs, and the request to the backend is cancelled', async () => {
      const before = (await a.stats()).aborted;
      const started = Date.now();
      const reply = await rawFor(5000, lb.port, 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab', { pauseMs: 600 }, 'cd', { pauseMs: 600 }, 'ef');
      expect(statusOf(reply.text)).toBe(408);
      expect(reply.closed).toBe(true);
      expect(Date.now() - started).toBeLessThan(3500);
      await waitFor('the backend to see its request cancelled', async () => ((await a.stats()).aborted === before + 1 ? true : undefined), 2000);
    });

    it('stays up and serves normal requests afterwards; counts what it rejected', async () => {
      expect((await send(`${lb.url}/after`)).status).toBe(200);
      expect((await lb.stats()).frontend.rejected).toBeGreaterThanOrEqual(hostile.length);
    });
  });

  it('writes a structured access log line per request', async () => {
    await send(`${lb.url}/logged?x=1`, { headers: { 'X-Request-Id': 'log-me' } });
    const line = await waitFor('the access log line', () => {
      const text = existsSync(accessLog) ? readFileSync(accessLog, 'utf8') : '';
      return text.split('\n').find((l) => l.includes('"log-me"'));
    }, 3000);
    const entry = JSON.parse(line);
    expect(entry).toMatchObject({ service: 'lb', rid: 'log-me', method: 'GET', path: '/logged?x=1', status: 200, backend: 'a', attempts: 1, ms: expect.any(Number), upstreamMs: expect.any(Number) });
    expect(entry.upstreamMs).toBeLessThanOrEqual(entry.ms);
  });
});
