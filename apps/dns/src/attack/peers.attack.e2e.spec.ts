import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@vita/testing';
import { parseView } from '../app/peers/view';
import { ADMIN_TOKEN, PEER_TOKEN, until } from '../test/controller-harness';
import { FakeNode } from '../test/fake-node';
import { MemoryProvider } from '../test/memory-provider';
import { attackSite, post, put, sleep, view } from './attack-helpers';

const A = '127.0.0.41';
const B = '127.0.0.42';
const KA = `node-a@${A}`;
const KB = `node-b@${B}`;
let port: number;
let a: FakeNode;
let b: FakeNode;
let dir: string;

const bothUp = () => [
  { key: KA, up: true },
  { key: KB, up: true },
];

const { started, start, peer, served, cleanup } = attackSite(A, B, () => port);
afterEach(cleanup);

beforeAll(async () => {
  port = await freePort();
  [a, b] = await Promise.all([FakeNode.start('node-a', A, port), FakeNode.start('node-b', B, port)]);
  dir = mkdtempSync(join(tmpdir(), 'vita-dns-attack-peers-'));
});
afterAll(async () => {
  await Promise.all([a.kill(), b.kill()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('hostile or buggy peer views', () => {
  it('DEFECT drain dated in the far future by a peer outlives every operator undrain (LWW on an unchecked peer clock)', async () => {
    const p = new MemoryProvider();
    const x = await peer(() => view('x', bothUp()));
    const w = await start({ DNS_PEERS: x.url }, p);
    await until('both published', () => served(p) === `${A} ${B}`);
    // A peer with a broken clock (or a bug) drains node-a "forever".
    const forever = { node: 'node-a', drained: true, seq: 1, reason: 'maintenance', at: '9999-12-31T23:59:59.000Z', by: 'x' };
    expect((await put(w.url, PEER_TOKEN, view('x', bothUp(), [forever]))).status).toBe(200);
    await until('A withdrawn', () => served(p) === B);
    // The operator undrains it: the API says done ...
    const res = await post(w.url, '/api/v1/nodes/node-a/undrain', { reason: 'maintenance is over' }, ADMIN_TOKEN);
    expect(res.status).toBe(200);
    // ... so the node must come back (or the undrain must be refused). It never does.
    await until('A back after the undrain', () => served(p) === `${A} ${B}`, 3000);
  });

  it('DEFECT a peer view that drains every node empties the record set (the last-node rule holds only for local drains)', async () => {
    const p = new MemoryProvider();
    const x = await peer(() => view('x', bothUp()));
    const w = await start({ DNS_PEERS: x.url }, p);
    await until('both published', () => served(p) === `${A} ${B}`);
    // What two operators draining node-a on w and node-b on x at the same time also produce: each
    // controller's check passes on its own, then the drains merge.
    const at = new Date().toISOString();
    const drains = [
      { node: 'node-a', drained: true, seq: 1, reason: 'disk', at, by: 'x' },
      { node: 'node-b', drained: true, seq: 1, reason: 'kernel', at, by: 'x' },
    ];
    expect((await put(w.url, PEER_TOKEN, view('x', bothUp(), drains))).status).toBe(200);
    await sleep(1500);
    // Both nodes serve the page; the site must keep at least one address.
    expect(served(p)).not.toBe('');
  });

  it('DEFECT a peer that changes its vantage name on every exchange gets two votes and withdraws a node the others see up', async () => {
    const p = new MemoryProvider();
    let n = 0;
    // x sees node-a down (it alone); it answers as x0, x1, x2, ... The third controller (y) is down.
    const x = await peer(() => view(`x${n++}`, [{ key: KA, up: false }, { key: KB, up: true }]));
    const w = await start({ DNS_PEERS: `${x.url},http://127.0.0.1:${await freePort()}` }, p);
    await until('published', () => served(p) === `${A} ${B}`);
    // w sees node-a up, x down: a tie between two real controllers keeps it.
    let withdrawn = false;
    for (let i = 0; i < 40 && !withdrawn; i++) {
      withdrawn = served(p) === B;
      await sleep(50);
    }
    const s = await w.status();
    // Its first name is bound to its URL; its later answers are refused, and say why.
    expect(withdrawn).toBe(false);
    expect(s.peers[0]).toMatchObject({ vantage: 'x0', ok: false, error: expect.stringMatching(/^its view is refused \(vantage: it answered as x0 before, now as x\d+\)$/) });
  });

  it('DEFECT one peer claiming a newer version withdraws every other node as stale (no majority needed)', async () => {
    const p = new MemoryProvider();
    // Every node really serves version 1; x (a buggy prober, a cache in its path) reports node-b at v999.
    const x = await peer(() => view('x', [{ key: KA, up: true, version: 1 }, { key: KB, up: true, version: 999 }]));
    const w = await start({ DNS_PEERS: x.url, DNS_STALE_AFTER_S: '1' }, p);
    await until('published', () => served(p) === `${A} ${B}`);
    await sleep(2500);
    const s = await w.status();
    expect(s.endpoints.map((e) => [e.node, e.verdict])).toEqual([
      ['node-a', 'healthy'],
      ['node-b', 'healthy'],
    ]);
  });

  it('DEFECT drains of nodes that are not configured pile up until the controller cannot restart from its own state file', async () => {
    const p = new MemoryProvider();
    const state = join(dir, 'ghosts.json');
    const x = await peer(() => view('x', bothUp()));
    const listen = await freePort();
    const w = await start({ DNS_PEERS: x.url, DNS_STATE_FILE: state }, p, listen);
    await until('published', () => served(p) === `${A} ${B}`);
    const at = new Date().toISOString();
    for (const batch of [0, 1]) {
      const ghosts = Array.from({ length: 600 }, (_, i) => ({ node: `ghost-${batch * 600 + i}`, drained: true, seq: 1, reason: 'x', at, by: 'x' }));
      expect((await put(w.url, PEER_TOKEN, view('x', bothUp(), ghosts))).status).toBe(200);
    }
    await w.close();
    started.splice(started.indexOf(w), 1);
    // Every view was valid; the controller must still start from what it saved itself.
    await expect(start({ DNS_PEERS: x.url, DNS_STATE_FILE: state }, p, listen)).resolves.toBeDefined();
  });

  it('DEFECT drains of unknown nodes learned from one peer make this controller\'s own view unacceptable to every peer', async () => {
    const p = new MemoryProvider();
    const got: unknown[] = [];
    const x = await peer((body) => {
      got.push(body);
      return view('x', bothUp());
    });
    const w = await start({ DNS_PEERS: x.url }, p);
    await until('published', () => served(p) === `${A} ${B}`);
    const at = new Date().toISOString();
    for (const batch of [0, 1]) {
      const ghosts = Array.from({ length: 600 }, (_, i) => ({ node: `ghost-${batch * 600 + i}`, drained: true, seq: 1, reason: 'x', at, by: 'z' }));
      await put(w.url, PEER_TOKEN, view('x', bothUp(), ghosts));
    }
    got.length = 0;
    await until('an exchange after', () => got.length > 0);
    // What w now sends its peers must pass the peers' own checks (parseView), or w drops out of every quorum.
    expect(() => parseView(got[got.length - 1])).not.toThrow();
  });

  it('DEFECT a state file that cannot be written stops all publishing once any drain or undrain record arrives from a peer', async () => {
    const p = new MemoryProvider();
    // The folder is there at start, then gone (disk replaced, read-only remount, ENOSPC behave alike: the write throws).
    const folder = join(dir, 'going');
    mkdirSync(folder);
    const state = join(folder, 'state.json');
    // A harmless, old undrain record, as every controller shares after any undrain anywhere.
    const undrain = { node: 'node-b', drained: false, seq: 1, reason: 'done', at: '2024-01-01T00:00:00.000Z', by: 'x' };
    const x = await peer(() => view('x', bothUp(), [undrain]));
    const w = await start({ DNS_PEERS: x.url, DNS_STATE_FILE: state }, p);
    rmSync(folder, { recursive: true, force: true });
    // Nothing is drained: both nodes must be published (and kept up to date) whatever the state file does.
    await until('both published', () => served(p) === `${A} ${B}`, 4000);
    const rounds = (await w.status()).rounds;
    await until('rounds going on', async () => (await w.status()).rounds >= rounds + 3, 4000);
    expect((await w.status()).drains).toEqual([expect.objectContaining({ node: 'node-b', drained: false })]);
  });

  it('a state file whose folder cannot be written stops the start with one line naming it', async () => {
    await expect(start({ DNS_STATE_FILE: join(dir, 'no-such-dir', 'state.json') }, new MemoryProvider())).rejects.toThrow(/^DNS_STATE_FILE .*no-such-dir\/state\.json: its folder cannot be written \(ENOENT\)$/);
  });
});
