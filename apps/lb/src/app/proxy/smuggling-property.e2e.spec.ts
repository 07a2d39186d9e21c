import { sleep } from '@vita/mariadb';
import { connect } from 'node:net';
import { parseResponses } from '../../test/raw-client';
import { recordedLb, type RecordingBackend } from '../../test/recording-backend';
import { VECTORS } from '../../test/smuggling-vectors';
import type { TestLb } from '../../test/harness';

/** A small seeded generator (mulberry32): the same seed, the same sequences. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Item {
  bytes: string;
  /** A valid request: the path and body the backend must see (undefined: an invalid one). */
  valid?: { method: string; url: string; body: string };
}

const REFUSED = VECTORS.filter((v) => v.client[0] >= 400 && v.backend === '');

/** One connection's requests: valid ones (whose bodies may hold text that looks like a request) and invalid ones. */
function sequence(rand: () => number, conn: number): Item[] {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const items: Item[] = [];
  const n = 1 + Math.floor(rand() * 5);
  for (let i = 0; i < n; i++) {
    const url = `/c${conn}/r${i}`;
    const inner = `GET /smuggled-${conn}-${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const roll = rand();
    if (roll < 0.3) items.push({ bytes: `GET ${url} HTTP/1.1\r\nHost: x\r\n\r\n`, valid: { method: 'GET', url, body: '' } });
    else if (roll < 0.5) {
      const body = rand() < 0.5 ? inner : 'x'.repeat(Math.floor(rand() * 40));
      items.push({ bytes: `POST ${url} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`, valid: { method: 'POST', url, body } });
    } else if (roll < 0.7) {
      const body = inner + 'y'.repeat(Math.floor(rand() * 20));
      let chunks = '';
      for (let at = 0; at < body.length; ) {
        const size = Math.min(body.length - at, 1 + Math.floor(rand() * 16));
        chunks += size.toString(16) + '\r\n' + body.slice(at, at + size) + '\r\n';
        at += size;
      }
      items.push({ bytes: `POST ${url} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`, valid: { method: 'POST', url, body } });
    } else if (roll < 0.85) {
      items.push({ bytes: pick(REFUSED).send.replace(/\/smuggled/g, `/smuggled-${conn}-${i}`) });
    } else {
      items.push({ bytes: pick(['XYZ\r\n\r\n', `GET ${url} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: content-length\r\n\r\nabc`, `\x00GET ${url} HTTP/1.1\r\n\r\n`]) });
    }
  }
  return items;
}

/** Sends a connection's bytes in random pieces; resolves with what came back once the server closes or goes quiet. */
function play(port: number, bytes: string, rand: () => number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let quiet: NodeJS.Timeout | undefined;
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(quiet);
      clearTimeout(limit);
      socket.destroy();
      resolve(text);
    };
    const limit = setTimeout(done, 5000);
    // Done once lb has said nothing more for a while (generous: a loaded machine may pause between
    // pipelined answers), or has closed the connection.
    const settle = () => {
      clearTimeout(quiet);
      quiet = setTimeout(done, 1500);
    };
    socket.on('data', (d: Buffer) => ((text += d.toString('latin1')), settle()));
    socket.on('close', done);
    socket.on('error', () => undefined);
    socket.once('connect', async () => {
      for (let at = 0; at < bytes.length && !socket.destroyed; ) {
        const size = rand() < 0.5 ? bytes.length - at : 1 + Math.floor(rand() * 64);
        socket.write(Buffer.from(bytes.slice(at, at + size), 'latin1'));
        at += size;
        if (rand() < 0.3) await sleep(Math.floor(rand() * 5));
      }
      settle();
    });
  });
}

describe('lb property: random valid and invalid requests on shared connections (seeded, bounded)', () => {
  let backend: RecordingBackend;
  let lb: TestLb;
  let stop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ backend, lb, stop } = await recordedLb());
  });
  afterAll(async () => {
    await stop?.();
  });

  it.each([1, 2, 3, 4, 5])('seed %d: the backend gets exactly the requests sent as requests, each client exactly its own answers', async (seed) => {
    backend.reset();
    const rand = random(seed);
    const connections = Array.from({ length: 24 }, (_, c) => sequence(rand, seed * 100 + c));
    const replies = await Promise.all(connections.map((items) => play(lb.port, items.map((i) => i.bytes).join(''), random(seed * 7919 + items.length))));
    await sleep(50);
    const expectedAtBackend: { method: string; url: string; body: string }[] = [];
    connections.forEach((items, c) => {
      const firstBad = items.findIndex((i) => i.valid === undefined);
      const good = (firstBad < 0 ? items : items.slice(0, firstBad)).map((i) => i.valid as NonNullable<Item['valid']>);
      expectedAtBackend.push(...good);
      const { responses } = parseResponses(replies[c]);
      if (process.env['DEBUG_PROPERTY']) console.log(JSON.stringify(items.map((i) => i.bytes).join('')), JSON.stringify(replies[c]));
      const finals = responses.filter((r) => r.status >= 200);
      // Its own answers, in order; then, after an invalid request, one refusal and nothing more.
      expect(finals.slice(0, good.length).map((r) => r.body)).toEqual(good.map((g) => `${g.method} ${g.url} ${g.body.length}`));
      if (firstBad < 0) expect(finals).toHaveLength(good.length);
      else {
        expect(finals).toHaveLength(good.length + 1);
        expect(finals[good.length].status).toBeGreaterThanOrEqual(400);
      }
    });
    const key = (r: { method: string; url: string; body: string }) => `${r.method} ${r.url} ${JSON.stringify(r.body)}`;
    expect(backend.parsed.map(key).sort()).toEqual(expectedAtBackend.map(key).sort());
    expect(backend.parsed.filter((r) => r.url.startsWith('/smuggled'))).toEqual([]);
  });
});
