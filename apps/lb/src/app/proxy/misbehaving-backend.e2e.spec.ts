import { rawExchange } from '../../test/raw-client';
import { ScriptedBackend } from '../../test/scripted-backend';
import { startTestLb, type TestLb } from '../../test/harness';

const many = Array.from({ length: 40 }, (_, i) => `X-H${i}: v\r\n`).join('');
const UPGRADE = 'GET /PATH HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';

const ANSWERS: Record<string, string | null> = {
  '/trailer': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\nX-Secret-Of-Client-1: token123\r\n\r\n',
  '/many': `HTTP/1.1 200 OK\r\n${many}Content-Length: 2\r\n\r\nok`,
  '/interim-body': 'HTTP/1.1 199 X\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nEVIL!\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  '/both': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  '/names-length': 'HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 2\r\n\r\nok',
  '/ws-refused': 'HTTP/1.1 426 Upgrade Required\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  '/ws-hang': null,
};

describe('lb in front of a misbehaving backend: what it sends is framed by lb, nothing carries over', () => {
  let a: ScriptedBackend;
  let b: ScriptedBackend;
  let lb: TestLb;

  beforeAll(async () => {
    const answer = (path: string) => (path in ANSWERS ? ANSWERS[path] : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    [a, b] = await Promise.all([ScriptedBackend.start(answer), ScriptedBackend.start(answer)]);
    lb = await startTestLb({
      backends: [{ name: 'a', url: a.url }, { name: 'b', url: b.url }],
      healthCheck: { intervalMs: 3_600_000, timeoutMs: 1000 },
      passive: { maxFailures: 0 },
      timeouts: { connectMs: 500, responseMs: 1000, firstByteMs: 0 },
    });
  });
  afterAll(async () => {
    await lb?.stop();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('a response’s trailer never reaches the next response on the same pooled connection', async () => {
    // One backend, one request at a time: every request reuses its one pooled connection.
    const single = await startTestLb({ backends: [{ name: 'a', url: a.url }], healthCheck: { intervalMs: 3_600_000, timeoutMs: 1000 } });
    try {
      let connections = 0;
      for (let i = 0; i < 4; i++) {
        const first = await rawExchange(single.port, 'GET /trailer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        expect(first.responses.map((r) => [r.status, r.body])).toEqual([[200, 'hi']]);
        const second = await rawExchange(single.port, 'GET /many HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        expect(second.responses).toHaveLength(1);
        expect(second.responses[0].headers['x-secret-of-client-1']).toBeUndefined();
        expect(second.responses[0].headers['x-h39']).toBe('v');
        if (i === 0) connections = a.connections;
      }
      // The later rounds reused the pooled connection of the first.
      expect(a.connections).toBe(connections);
    } finally {
      await single.stop();
    }
  });

  it('an interim response’s body is never sent on; what follows it is read as the next response', async () => {
    const got = await rawExchange(lb.port, 'GET /interim-body HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    // Nothing but whole responses, a status line first (lb answers 502: the bytes after the 199 are no response).
    expect(got.rest).toBe('');
    expect(got.responses.map((r) => r.status)).toEqual([502]);
    expect(got.responses[0].body).not.toContain('EVIL');
  });

  it.each(['/both', '/names-length'])('a response lb cannot frame (%s) is a 502, sent to one backend once', async (path) => {
    const before = a.requests(path).length + b.requests(path).length;
    const got = await rawExchange(lb.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    expect(got.responses.map((r) => r.status)).toEqual([502]);
    expect(a.requests(path).length + b.requests(path).length - before).toBe(1);
  });

  it('an answer other than 101 to an upgrade reaches the client framed by lb, and the connection closes', async () => {
    const got = await rawExchange(lb.port, UPGRADE.replace('PATH', 'ws-refused'), { expect: 1 });
    expect(got.rest).toBe('');
    expect(got.responses.map((r) => [r.status, r.body])).toEqual([[426, 'hello']]);
    expect(got.responses[0].headers['connection']).toBe('close');
    expect(got.closed).toBe(true);
  });

  it('an upgrade the backend never answers gets 504 within connectMs + responseMs', async () => {
    const started = Date.now();
    const got = await rawExchange(lb.port, UPGRADE.replace('PATH', 'ws-hang'), { expect: 1, maxMs: 5000 });
    expect(got.responses.map((r) => r.status)).toEqual([504]);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(got.closed).toBe(true);
  });
});
