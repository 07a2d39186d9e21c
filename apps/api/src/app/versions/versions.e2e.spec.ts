import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { sampleResume } from '@vita/testing';
import { connect, type AddressInfo } from 'node:net';
import { apiEnv, ApiDatabases, eventually, startApi, startApiDatabases } from '../../test/api-stack';
import { openSse, SseStream } from '../../test/sse-client';
import { VersionStreams } from './versions.service';

describe('GET /api/v1/versions: the push channel, on a real primary and replica', () => {
  let dbs: ApiDatabases;
  let app: NestFastifyApplication;
  let base: string;
  const streams: SseStream[] = [];
  const sample = sampleResume();

  const put = async (label: string): Promise<number> => {
    const res = await fetch(`${base}/api/v1/resume`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${dbs.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...sample, basics: { ...sample.basics, label } }),
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { version: number }).version;
  };
  const subscribe = async () => {
    const stream = await openSse(`${base}/api/v1/versions`);
    streams.push(stream);
    return stream;
  };

  /** One request on its own connection (`Connection: close`): everything the server sent until it closed, or what came within 5 s. */
  const rawExchange = (request: string): Promise<{ text: string; ended: boolean }> =>
    new Promise((resolve) => {
      const { port } = new URL(base);
      const socket = connect(Number(port), '127.0.0.1', () => socket.write(request));
      let text = '';
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ text, ended: false });
      }, 5000);
      socket.on('data', (chunk) => (text += String(chunk)));
      socket.on('close', () => {
        clearTimeout(timer);
        resolve({ text, ended: true });
      });
      socket.on('error', () => undefined);
    });

  beforeAll(async () => {
    dbs = await startApiDatabases(1);
    app = await startApi(apiEnv(dbs, { VERSIONS_MAX_STREAMS: '2', VERSIONS_KEEPALIVE_MS: '300' }));
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    streams.forEach((s) => s.close());
    await app?.close();
    await dbs?.topology.close();
  });

  it('HEAD answers the headers a stream would get and ends, taking no place (more HEADs than VERSIONS_MAX_STREAMS)', async () => {
    const heads = await Promise.all(
      [1, 2, 3].map(() => rawExchange('HEAD /api/v1/versions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n')),
    );
    for (const head of heads) {
      expect(head.ended).toBe(true);
      const [header, body] = head.text.split('\r\n\r\n');
      expect(header).toMatch(/^HTTP\/1\.1 200 /);
      expect(header).toMatch(/\r\ncontent-type: text\/event-stream/i);
      expect(header).toMatch(/\r\ncache-control: no-store/i);
      expect(header).not.toMatch(/\r\ncontent-length:/i);
      expect(body).toBe('');
    }
    expect(app.get(VersionStreams).size).toBe(0);
  });

  it('answers with retry, then the version served now; a write arrives as the next version, on every subscriber', async () => {
    const first = await put('first');
    await eventually(async () => (await fetch(`${base}/api/v1/resume`)).headers.get('etag') === `"v${first}"`, 5000, `v${first} served`);

    const one = await subscribe();
    expect(one.status).toBe(200);
    expect(one.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(one.headers['cache-control']).toBe('no-store');
    await eventually(() => one.versions().length === 1, 5000, 'the current version');
    expect(one.text().startsWith(`retry: 1000\n\nevent: version\ndata: {"version":${first}}\n\n`)).toBe(true);

    const two = await subscribe();
    await eventually(() => two.versions().length === 1, 5000, 'the second subscriber\'s current version');
    const next = await put('second');
    await eventually(() => one.versions().includes(next) && two.versions().includes(next), 5000, `v${next} pushed to both`);
    expect(one.versions()).toEqual([first, next]);
    expect(two.versions()).toEqual([first, next]);
  });

  it('sends a keep-alive comment on an idle stream', async () => {
    const [one] = streams;
    const before = one.text().split(': keep-alive\n\n').length;
    await eventually(() => one.text().split(': keep-alive\n\n').length > before, 5000, 'a keep-alive');
  });

  it('refuses subscribers beyond the bound with 503 and a clear message, and takes one again when a stream closes', async () => {
    const res = await fetch(`${base}/api/v1/versions`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { message: string }).message).toMatch(/too many open version streams on this api instance \(at most 2\)/);
    const head = await fetch(`${base}/api/v1/versions`, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    expect(head.status).toBe(503);

    const gone = streams.shift();
    gone?.close();
    await eventually(async () => {
      const stream = await openSse(`${base}/api/v1/versions`);
      if (stream.status === 200) streams.push(stream);
      else stream.close();
      return stream.status === 200;
    }, 5000, 'a free place after a subscriber left');
  });

  it('ends every stream cleanly when the app shuts down', async () => {
    expect(streams).toHaveLength(2);
    const ends = streams.map((s) => s.ended);
    await app.close();
    await Promise.all(ends);
    for (const s of streams) expect(s.text().endsWith('\n\n')).toBe(true);
  });
});
