import { sleep } from '@vita/mariadb';
import { connect, Socket } from 'node:net';
import { backendsOf, cleanup, raw, startTestLb, statusOf, TestBackend, TestLb, waitFor } from '../../test/harness';

/** A response read off a raw connection, framed as a client would frame it. */
interface RawResponse {
  status: number;
  version: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

/**
 * Frames the responses in raw response text the way a strict client does: by Content-Length, by
 * chunking, no body for HEAD / 204 / 304, or to the end of the text (close-delimited). Returns the
 * complete responses and what is left over (an incomplete response, or stray bytes).
 */
function frame(text: string, methods: string[]): { responses: RawResponse[]; rest: string } {
  const responses: RawResponse[] = [];
  let at = 0;
  for (const method of methods) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const [line, ...lines] = text.slice(at, end).split('\r\n');
    const [version, status] = line.split(' ');
    const headers: Record<string, string> = {};
    for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
    let pos = end + 4;
    let body = '';
    if (method === 'HEAD' || status === '204' || status === '304') {
      // no body
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (text.length < pos + length) break;
      body = text.slice(pos, pos + length);
      pos += length;
    } else if (headers['transfer-encoding'] === 'chunked') {
      let complete = false;
      for (let i = 0; i < 100_000; i++) {
        const eol = text.indexOf('\r\n', pos);
        if (eol < 0) break;
        const size = parseInt(text.slice(pos, eol), 16);
        if (text.length < eol + 2 + size + 2) break;
        body += text.slice(eol + 2, eol + 2 + size);
        pos = eol + 2 + size + 2;
        if (size === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) break;
    } else {
      body = text.slice(pos);
      pos = text.length;
    }
    responses.push({ status: Number(status), version, headers, body });
    at = pos;
  }
  return { responses, rest: text.slice(at) };
}

/** A raw client connection kept open across requests. */
class RawClient {
  readonly socket: Socket;
  text = '';
  closed = false;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => (this.text += d.toString('latin1')));
    this.socket.on('close', () => (this.closed = true));
    this.socket.on('error', () => undefined);
  }

  /** Sends requests and waits (bounded) until `methods.length` responses have arrived; returns them and clears the buffer. */
  async exchange(requests: string, methods: string[], timeoutMs = 5000): Promise<RawResponse[]> {
    this.text = '';
    this.socket.write(requests, 'latin1');
    await waitFor(`${methods.length} responses`, () => (frame(this.text, methods).responses.length === methods.length ? true : undefined), timeoutMs);
    // Nothing but the responses: no stray bytes (a body or chunk terminator that should not be there).
    await sleep(100);
    const { responses, rest } = frame(this.text, methods);
    expect(rest).toBe('');
    this.text = '';
    return responses;
  }
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
const head = (path: string) => `HEAD ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

describe('lb client connections: framing, keep-alive, pipelining (real backend processes on loopback)', () => {
  let a: TestBackend;
  let lb: TestLb;
  const clients: RawClient[] = [];
  const client = () => {
    const c = new RawClient(lb.port);
    clients.push(c);
    return c;
  };

  /** Runs `body` with lb's side of the next client connection (lb's data plane runs in this process). */
  async function withServerSocket(body: (server: () => Socket | undefined) => Promise<void>): Promise<void> {
    const server = lb.lb.dataPlane?.server;
    if (!server) throw new Error('lb runs its data plane in this process');
    let socket: Socket | undefined;
    const take = (s: Socket) => (socket = s);
    server.once('connection', take);
    try {
      await body(() => socket);
    } finally {
      server.off('connection', take);
    }
  }

  beforeAll(async () => {
    a = await TestBackend.start('a');
    lb = await startTestLb({ backends: backendsOf(a), timeouts: { headersMs: 500, requestMs: 15_000, clientKeepAliveMs: 2000 } });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.socket.destroy();
  });
  afterAll(async () => {
    await lb.stop();
    await cleanup();
  });

  it('answers HEAD to a chunked or close-delimited backend response with no body, and keeps the connection', async () => {
    const c = client();
    const [chunked] = await c.exchange(head('/drip'), ['HEAD']);
    expect(chunked.status).toBe(200);
    expect(chunked.headers['transfer-encoding']).toBeUndefined();
    const [delimited] = await c.exchange(head('/close-delimited'), ['HEAD']);
    expect(delimited.status).toBe(200);
    expect(delimited.headers['connection']).toBeUndefined();
    const [after] = await c.exchange(get('/status/201'), ['GET']);
    expect([after.status, after.body]).toEqual([201, 'a GET /status/201']);
    expect(c.closed).toBe(false);
  });

  it('re-frames a close-delimited backend body: chunked for HTTP/1.1 (connection kept), close-delimited for HTTP/1.0', async () => {
    const c = client();
    const [v11] = await c.exchange(get('/close-delimited'), ['GET']);
    expect([v11.status, v11.headers['transfer-encoding'], v11.body]).toEqual([200, 'chunked', 'until the close']);
    const [after] = await c.exchange(get('/status/202'), ['GET']);
    expect(after.status).toBe(202);

    const v10 = await raw(lb.port, 'GET /close-delimited HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    expect(v10.closed).toBe(true);
    expect(v10.text).not.toMatch(/transfer-encoding/i);
    expect(v10.text).toMatch(/\r\nConnection: close\r\n/i);
    expect(v10.text.endsWith('\r\n\r\nuntil the close')).toBe(true);
  });

  it('passes on a backend response with many headers (handed over by the parser in pieces)', async () => {
    const c = client();
    const [reply] = await c.exchange(get('/many-headers?n=70'), ['GET']);
    expect(reply.body).toBe('many');
    for (let i = 0; i < 70; i++) expect(reply.headers[`x-h${i}`]).toBe(`v${i}`);
    expect(reply.headers['x-backend']).toBe('a');
  });

  it('keeps the connection reusable after 204 and 304, sequential and pipelined', async () => {
    const c = client();
    expect((await c.exchange(get('/status/304'), ['GET']))[0].status).toBe(304);
    expect((await c.exchange(get('/status/204'), ['GET']))[0].status).toBe(204);
    const pipelined = await c.exchange(get('/status/304') + get('/empty?status=204') + get('/empty?status=304') + head('/drip') + get('/status/200'), ['GET', 'GET', 'GET', 'HEAD', 'GET']);
    expect(pipelined.map((r) => r.status)).toEqual([304, 204, 304, 200, 200]);
    expect(pipelined.slice(1, 3).map((r) => [r.headers['content-length'], r.headers['transfer-encoding']])).toEqual([[undefined, undefined], [undefined, undefined]]);
    expect(pipelined[4].body).toBe('a GET /status/200');
    expect(c.closed).toBe(false);
  });

  it('answers pipelined requests in order when one in the middle has a body', async () => {
    const c = client();
    const post = 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world';
    const replies = await c.exchange(get('/slow?ms=200') + post + get('/status/203'), ['GET', 'POST', 'GET']);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 203]);
    expect(replies[0].body).toBe('a slow');
    expect((JSON.parse(replies[1].body) as { method: string; body: string }).body).toBe('hello world');
  });

  it('forwards a pipelined chunked body larger than chunkedBodyBufferBytes that waited behind a slow response', async () => {
    const c = client();
    // More than lb buffers for a request not yet sent on: it stops reading the client until then.
    const size = 200_000;
    const post = `POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${size.toString(16)}\r\n${'p'.repeat(size)}\r\n0\r\n\r\n`;
    const replies = await c.exchange(get('/slow?ms=300') + post, ['GET', 'POST'], 4000);
    expect(replies.map((r) => r.status)).toEqual([200, 200]);
    expect((JSON.parse(replies[1].body) as { body: string }).body).toHaveLength(size);
  });

  it('cancels a pipeline whose client disappears: the request in progress is aborted, the rest never sent, nothing left counted', async () => {
    const before = await a.stats();
    const c = client();
    c.socket.write(get('/slow?ms=3000') + get('/slow?ms=3001') + 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    await waitFor('the first request to reach the backend', async () => ((await lb.stats()).backends[0].active === 1 ? true : undefined));
    c.socket.destroy();
    await waitFor('the backend to see it cancelled', async () => ((await a.stats()).aborted === before.aborted + 1 ? true : undefined), 3000);
    await waitFor('lb to count nothing in progress', async () => {
      const s = await lb.stats();
      return s.frontend.active === 0 && s.backends[0].active === 0 ? true : undefined;
    }, 3000);
    const after = await a.stats();
    expect(after.requests - before.requests).toBe(1);
    expect(after.posts).toBe(before.posts);
  });

  it('never answers a pipelined request out of order: a bad request behind one in progress is not answered before it', async () => {
    const c = client();
    c.socket.write(get('/slow?ms=300') + 'GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n');
    await waitFor('the connection to close', () => (c.closed ? true : undefined), 3000);
    // Either the first response comes first (then the refusal), or the connection closes without answering.
    const statuses = [...c.text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
    expect(statuses[0] === undefined || statuses[0] === 200).toBe(true);
  });

  it('keeps one drain listener at most per response while a client reads slowly, and the backend connection stays usable', async () => {
    await withServerSocket(async (socket) => {
      const c = client();
      // 4 MiB in chunks of 4 KiB, written at once by the backend: many chunks in each read lb makes,
      // more than socket buffers hold while the client is not reading.
      const request = get('/chunks?n=1024&size=4096');
      let maxListeners = 0;
      for (let i = 0; i < 4; i++) {
        c.socket.pause();
        c.text = '';
        c.socket.write(request, 'latin1');
        // Not reading: lb's writes to the client fill up.
        for (let t = 0; t < 30; t++) {
          await sleep(10);
          maxListeners = Math.max(maxListeners, socket()?.listenerCount('drain') ?? 0);
        }
        c.socket.resume();
        await waitFor('the whole response', () => (frame(c.text, ['GET']).responses[0]?.body.length === 1024 * 4096 ? true : undefined), 5000);
      }
      // It did stall (lb waited for the client), with one listener, not one per chunk.
      expect(maxListeners).toBeGreaterThanOrEqual(1);
      expect(maxListeners).toBeLessThanOrEqual(2);
      // The pooled backend connection was not left paused: another client is answered at once.
      const other = client();
      expect((await other.exchange(get('/status/200'), ['GET'], 2000))[0].status).toBe(200);
    });
  });

  it('keeps one drain listener at most on the backend connection while a backend reads an upload slowly', async () => {
    // lb runs in this process: the most 'drain' listeners any socket had at once.
    const proto = Socket.prototype as unknown as { once(this: Socket, event: string, listener: () => void): Socket };
    const once = proto.once;
    let most = 0;
    proto.once = function (event, listener) {
      once.call(this, event, listener);
      if (event === 'drain') most = Math.max(most, this.listenerCount('drain'));
      return this;
    };
    try {
      const c = client();
      // 40 MB in chunks of 1000 bytes: many chunks in each read lb makes, and more than the socket
      // buffers between lb and the backend can hold (loopback receive buffers grow to 32 MB here).
      const chunk = `3e8\r\n${'u'.repeat(1000)}\r\n`;
      const [reply] = await c.exchange(`POST /hold?ms=500 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.repeat(40_000)}0\r\n\r\n`, ['POST'], 10_000);
      expect([reply.status, reply.body]).toEqual([200, String(40_000_000)]);
      expect(most).toBeGreaterThanOrEqual(1);
      expect(most).toBeLessThanOrEqual(2);
    } finally {
      proto.once = once;
    }
  });

  it('does not run ahead of a pipelining client that reads nothing: responses wait for the client, none lost', async () => {
    await withServerSocket(async (socket) => {
      const c = client();
      c.socket.pause();
      const count = 400;
      // 32 KiB each, in one read of the backend.
      c.socket.write(get('/chunks?n=8&size=4096').repeat(count), 'latin1');
      let maxBuffered = 0;
      for (let t = 0; t < 40; t++) {
        await sleep(25);
        maxBuffered = Math.max(maxBuffered, socket()?.writableLength ?? 0);
      }
      // What lb holds for this client in memory stays around one response, whatever the kernel buffers took.
      expect(maxBuffered).toBeLessThan(1024 * 1024);
      c.socket.resume();
      await waitFor('every response', () => ((c.text.match(/HTTP\/1\.1 200 OK\r\n/g) ?? []).length === count ? true : undefined), 15_000);
      expect(frame(c.text, Array(count).fill('GET')).responses.every((r) => r.body.length === 8 * 4096)).toBe(true);
    });
  });

  it('disconnects a client that takes nothing of a response for responseMs, without blaming the backend', async () => {
    const strict = await startTestLb({ backends: backendsOf(a), timeouts: { responseMs: 600 } });
    try {
      const abortedBefore = (await a.stats()).aborted;
      const c = new RawClient(strict.port);
      clients.push(c);
      c.socket.pause();
      c.socket.write(get('/big?mb=64'));
      await waitFor('lb to give up on the stalled client', async () => ((await strict.stats()).frontend.clientAborts === 1 ? true : undefined), 10_000);
      // Reading again, the client finds the connection closed with the response cut short.
      c.socket.resume();
      await waitFor('the client to see the connection closed', () => (c.closed ? true : undefined), 10_000);
      expect(c.text.length).toBeLessThan(64 * 1024 * 1024);
      const stats = await strict.stats();
      expect(stats.backends[0].errors.timeout).toBe(0);
      expect(stats.backends[0].status).toBe('UP');
      await waitFor('the backend to see its request cancelled', async () => ((await a.stats()).aborted === abortedBefore + 1 ? true : undefined), 2000);
    } finally {
      await strict.stop();
    }
  });

  it('closes a busy connection after its response when lb drains, and takes no further request on it', async () => {
    const draining = await startTestLb({ backends: backendsOf(a) });
    const before = (await a.stats()).paths['/after-drain'] ?? 0;
    const c = new RawClient(draining.port);
    clients.push(c);
    c.socket.write(get('/slow?ms=400'));
    await waitFor('the request to reach the backend', async () => ((await draining.stats()).backends[0].active === 1 ? true : undefined));
    const stopped = draining.stop();
    await sleep(100);
    c.socket.write(get('/after-drain'));
    await waitFor('the connection to close', () => (c.closed ? true : undefined), 5000);
    await stopped;
    const { responses } = frame(c.text, ['GET']);
    expect(responses.map((r) => [r.status, r.body, r.headers['connection']])).toEqual([[200, 'a slow', 'close']]);
    expect(statusOf(c.text.slice(c.text.indexOf('a slow')))).toBe(0);
    expect((await a.stats()).paths['/after-drain'] ?? 0).toBe(before);
  });
});
