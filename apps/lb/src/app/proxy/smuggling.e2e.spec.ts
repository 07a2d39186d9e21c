import { sleep } from '@vita/mariadb';
import { connect } from 'node:net';
import { parseResponses, rawExchange } from '../../test/raw-client';
import { recordedLb, type RecordingBackend } from '../../test/recording-backend';
import { FIRST, pipelined, VECTORS, type Vector } from '../../test/smuggling-vectors';
import type { TestLb } from '../../test/harness';

describe('lb against request smuggling: raw vectors, what the client gets and the backend receives byte for byte', () => {
  let backend: RecordingBackend;
  let lb: TestLb;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ backend, lb, stop } = await recordedLb());
  });
  afterAll(async () => {
    await stop?.();
  });

  const run = async (v: Vector) => {
    backend.reset();
    const got = await rawExchange(lb.port, Buffer.from(v.send, 'latin1'), { expect: v.client.filter((s) => s >= 200).length });
    // Anything lb would forward late (it never should) has time to arrive.
    await sleep(50);
    expect({ client: got.responses.map((r) => r.status), backend: backend.received }).toEqual({ client: v.client, backend: v.backend });
    if (v.closes) expect(got.closed).toBe(true);
    for (const [i, r] of got.responses.entries()) {
      // Each answer from the backend is the answer to this client's own request.
      if (r.status === 200) expect(r.body).toMatch(/^(GET|POST) \/\S* \d+$/);
      if (v.client[i] === 200 && i === 0 && v.send.startsWith('GET /first')) expect(r.body).toBe('GET /first 0');
    }
  };

  it.each(VECTORS.map((v) => [v.name, v] as const))('%s', async (_name, v) => run(v));
  it.each(VECTORS.map(pipelined).map((v) => [v.name, v] as const))('%s', async (_name, v) => run(v));

  it('sends a WebSocket upgrade on under the same hop-by-hop policy, byte for byte', async () => {
    backend.reset();
    const upgrade = 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade, X-Hop\r\nUpgrade: websocket\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nProxy-Authorization: Basic eA==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Request-Id: t1\r\nContent-Length: 0\r\n\r\n';
    const got = await rawExchange(lb.port, upgrade, { expect: 0, maxMs: 2000 });
    expect(got.responses.map((r) => r.status)).toEqual([101]);
    // http-proxy writes the header lines in an order of its own: the lines, and nothing after the head.
    const [line, ...headers] = backend.received.split('\r\n');
    expect(line).toBe('GET /ws HTTP/1.1');
    expect(backend.received.endsWith('\r\n\r\n')).toBe(true);
    expect(headers.filter((h) => h !== '').sort()).toEqual(
      ['host: x', 'sec-websocket-version: 13', 'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==', 'x-forwarded-for: 127.0.0.1', 'x-forwarded-proto: http', 'x-forwarded-host: x', 'x-request-id: t1', 'connection: Upgrade', 'upgrade: websocket'].sort(),
    );
  });

  it('a client still sending when it is refused gets every answer: lb reads on until it closes (no reset)', async () => {
    for (let i = 0; i < 5; i++) {
      const got = await new Promise<{ text: string }>((resolve) => {
        const socket = connect(lb.port, '127.0.0.1');
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve({ text }));
        socket.once('connect', async () => {
          socket.write(`${FIRST}GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n`);
          // More bytes after the refused request, for a while: they are read and ignored.
          for (let k = 0; k < 20 && !socket.destroyed; k++) {
            socket.write('x'.repeat(8192));
            await sleep(5);
          }
          socket.end();
        });
      });
      expect(parseResponses(got.text).responses.map((r) => r.status)).toEqual([200, 400]);
    }
  });

  it('the reproduction never reaches the backend as a request, on any of many connections', async () => {
    backend.reset();
    const smuggle = VECTORS[0].send;
    await Promise.all(Array.from({ length: 20 }, () => rawExchange(lb.port, smuggle)));
    await sleep(50);
    expect(backend.parsed).toEqual([]);
  });
});
