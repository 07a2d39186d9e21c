import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@vita/testing';
import type { DrainRecord } from '../app/model';
import { parseExchange } from '../app/peers/view';
import { decide } from '../app/policy/decide';
import { ADMIN_TOKEN, until } from '../test/controller-harness';
import { FakeNode } from '../test/fake-node';
import { MemoryProvider } from '../test/memory-provider';
import { attackSite, post, sleep, view } from './attack-helpers';

const A = '127.0.0.81';
const B = '127.0.0.82';
const KA = `node-a@${A}`;
const KB = `node-b@${B}`;
let port: number;
let a: FakeNode;
let b: FakeNode;
let dir: string;
const servers: Server[] = [];

const bothUp = () => [
  { key: KA, up: true },
  { key: KB, up: true },
];
const drainsOf = (body: unknown): DrainRecord[] => ((body as { drains?: DrainRecord[] } | null)?.drains ?? []);

const { started, start, peer, served, cleanup } = attackSite(A, B, () => port);
afterEach(cleanup);

beforeAll(async () => {
  port = await freePort();
  [a, b] = await Promise.all([FakeNode.start('node-a', A, port), FakeNode.start('node-b', B, port)]);
  dir = mkdtempSync(join(tmpdir(), 'vita-dns-attack2-drain-'));
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
afterAll(async () => {
  await Promise.all([a.kill(), b.kill()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('drain answers and drain order (second attack)', () => {
  it('DEFECT a drain that loses to a simultaneous undrain on another controller answers "withdrawn; safe to work on it" while the node is put back', async () => {
    const p = new MemoryProvider();
    // x: node-a was drained there earlier (seq 1). Its operator undrains node-a at the very moment w's
    // operator drains it again: both take seq 2; x's wins (same ms, x > w; or a later ms).
    let xDrains: DrainRecord[] = [{ node: 'node-a', drained: true, seq: 1, reason: 'disk', at: new Date(Date.now() - 60_000).toISOString(), by: 'x' }];
    const x = await peer((body) => {
      const mine = drainsOf(body).find((d) => d.node === 'node-a' && d.by === 'w' && d.seq === 2);
      if (mine && xDrains[0].seq === 1) xDrains = [{ node: 'node-a', drained: false, seq: 2, reason: 'disk replaced', at: mine.at, by: 'x' }];
      return view('x', bothUp(), xDrains);
    });
    const w = await start({ DNS_PEERS: x.url }, p);
    await until('node-a drained everywhere', () => served(p) === B);
    const res = await post(w.url, '/api/v1/nodes/node-a/drain', { reason: 'still rebooting' }, ADMIN_TOKEN);
    // Every controller converges on x's undrain: node-a is published again ...
    await until('w takes the winning undrain', async () => (await w.status()).drains.find((d) => d.node === 'node-a')?.drained === false);
    await until('node-a published again', () => served(p) === `${A} ${B}`);
    // ... so the answer w gave its operator must say its drain lost, and to what (never "safe to work on it").
    const answer = (await res.json()) as { message: string };
    expect([res.status, answer.message]).toEqual([409, expect.stringMatching(/^superseded by x's undrain of node-a at \S+ \(reason: disk replaced\), taken at the same moment: node-a is not drained$/)]);
    expect(w.audit.list()[0]).toMatchObject({ action: 'drain', outcome: 'superseded' });
  });

  it('DEFECT a drain that, merged with a simultaneous drain on another controller, leaves every node drained answers "safe to work on it" for the node that is kept in', async () => {
    const p = new MemoryProvider();
    let xDrains: DrainRecord[] = [];
    const x = await peer((body) => {
      const mine = drainsOf(body).find((d) => d.node === 'node-b' && d.by === 'w');
      // x's operator drained node-a a few ms before w's drained node-b (each controller's check passed).
      if (mine && xDrains.length === 0) xDrains = [{ node: 'node-a', drained: true, seq: 1, reason: 'kernel', at: new Date(Date.parse(mine.at) - 5).toISOString(), by: 'x' }];
      return view('x', bothUp(), xDrains);
    });
    const w = await start({ DNS_PEERS: x.url }, p);
    await until('both published', () => served(p) === `${A} ${B}`);
    const res = await post(w.url, '/api/v1/nodes/node-b/drain', { reason: 'disk' }, ADMIN_TOKEN);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { safeAt: string | null; record: { message: string } };
    // Both drained: node-b, drained last, is kept in, and published.
    await until('node-b kept in', () => served(p) === B);
    expect({ safeAt: answer.safeAt, message: answer.record.message }).toEqual({ safeAt: null, message: expect.not.stringContaining('safe to work') });
  });

  it('DEFECT after a peer sends seq 2^40 (accepted), an operator undrain takes seq 2^40+1: from then on every peer refuses this controller\'s whole view (its votes and its undrain are lost)', async () => {
    const p = new MemoryProvider();
    const bodies: unknown[] = [];
    const huge: DrainRecord = { node: 'node-a', drained: true, seq: 2 ** 40, reason: 'maintenance', at: new Date().toISOString(), by: 'x' };
    const x = await peer((body) => {
      bodies.push(body);
      return view('x', bothUp(), [huge]);
    });
    const w = await start({ DNS_PEERS: x.url, DNS_STATE_FILE: join(dir, 'huge.json') }, p);
    await until('node-a drained', () => served(p) === B);
    const res = await post(w.url, '/api/v1/nodes/node-a/undrain', { reason: 'maintenance is over' }, ADMIN_TOKEN);
    expect(res.status).toBe(200);
    const n = bodies.length;
    await until('w sends its view again', () => bodies.length > n + 1);
    // What w sends its peers must pass the peers' own checks (parseExchange is what they run).
    expect(() => parseExchange(bodies[bodies.length - 1])).not.toThrow();
  });

  it('DEFECT after a peer sends seq 2^40 and an operator undrains, the controller cannot start again: its own state file is refused', async () => {
    const p = new MemoryProvider();
    const file = join(dir, 'huge-restart.json');
    const huge: DrainRecord = { node: 'node-a', drained: true, seq: 2 ** 40, reason: 'maintenance', at: new Date().toISOString(), by: 'x' };
    const x = await peer(() => view('x', bothUp(), [huge]));
    const w = await start({ DNS_PEERS: x.url, DNS_STATE_FILE: file }, p);
    await until('node-a drained', () => served(p) === B);
    expect((await post(w.url, '/api/v1/nodes/node-a/undrain', { reason: 'maintenance is over' }, ADMIN_TOKEN)).status).toBe(200);
    await w.close();
    started.splice(started.indexOf(w), 1);
    // A restart (a deploy, a crash) with the same state file.
    await expect(start({ DNS_PEERS: x.url, DNS_STATE_FILE: file }, new MemoryProvider())).resolves.toBeDefined();
  });

  it('DEFECT every node drained: the node kept in is the one with the highest seq (the most drain history), not the one drained last', () => {
    const now = Date.now();
    const drains = new Map<string, DrainRecord>([
      // node-a has been drained and undrained several times; its last drain was an hour ago.
      ['node-a', { node: 'node-a', drained: true, seq: 7, reason: 'disk', at: new Date(now - 3_600_000).toISOString(), by: 'w' }],
      // node-b was drained just now, on another controller that had not heard of node-a's drain.
      ['node-b', { node: 'node-b', drained: true, seq: 1, reason: 'kernel', at: new Date(now - 1000).toISOString(), by: 'x' }],
    ]);
    const d = decide({
      endpoints: [
        { key: KA, node: 'node-a', address: A, type: 'A' },
        { key: KB, node: 'node-b', address: B, type: 'A' },
      ],
      views: [view('w', bothUp()), view('x', bothUp())],
      vantages: 2,
      drains,
      memory: new Map(),
      now,
      settings: { minHoldMs: 0, staleAfterMs: 0 },
    });
    expect(d.keptDrained).toBe('node-b');
  });

  it('DEFECT a controller that is stopped still writes DNS afterwards: a peer answer in flight at shutdown is taken and published', async () => {
    const p = new MemoryProvider();
    const listen = await freePort();
    let drainA = false;
    let inFlight = 0;
    // A peer that answers after 300 ms.
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        inFlight++;
        setTimeout(() => {
          const drains: DrainRecord[] = drainA ? [{ node: 'node-a', drained: true, seq: 1, reason: 'disk', at: new Date().toISOString(), by: 'x' }] : [];
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(view('x', bothUp(), drains)));
        }, 300);
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(listen, '127.0.0.1', () => r()));
    const w = await start({ DNS_PEERS: `http://127.0.0.1:${listen}`, DNS_PROBE_TIMEOUT_MS: '800', DNS_PROBE_INTERVAL_MS: '1000' }, p);
    await until('both published', () => served(p) === `${A} ${B}`);
    // x's operator drains node-a; w is shut down while x's answer (carrying it) is on its way.
    drainA = true;
    const before = inFlight;
    await until('an exchange in flight', () => inFlight > before);
    await w.close();
    started.splice(started.indexOf(w), 1);
    const writesAtStop = p.replaces;
    const servedAtStop = served(p);
    await sleep(800);
    expect({ replaces: p.replaces, served: served(p) }).toEqual({ replaces: writesAtStop, served: servedAtStop });
  });
});
