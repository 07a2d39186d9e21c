import { Peers } from '../app/peers/peer-client';
import { decide } from '../app/policy/decide';
import { PEER_TOKEN } from '../test/controller-harness';
import { FakePeer, view } from './attack-helpers';

const KA = 'node-a@127.0.0.71';
const peers: FakePeer[] = [];
const peer = async (answer: (body: unknown) => unknown) => {
  const f = await FakePeer.start(answer);
  peers.push(f);
  return f;
};
afterEach(async () => {
  await Promise.all(peers.splice(0).map((f) => f.close()));
});

describe('relayed views (one hop)', () => {
  it('DEFECT a controller restarted under a new DNS_VANTAGE counts its own old view, relayed back by a peer, as one more vantage point (more views than controllers)', async () => {
    // Three controllers a, b, c. c restarts as c2 (new DNS_VANTAGE). a still holds, fresh, the view c
    // sent before the restart (it relays it to everyone for freshMs), listed before b's.
    const oldC = view('c', [{ key: KA, up: true }]);
    const fa = await peer(() => ({ ...view('a', [{ key: KA, up: false }]), heard: [{ view: oldC, ageMs: 10 }, { view: view('b', [{ key: KA, up: true }]), ageMs: 10 }] }));
    const fb = await peer(() => view('b', [{ key: KA, up: true }]));
    // c2's peers are a and b; a answers first.
    const c2 = new Peers([fa.url, fb.url], 'c2', PEER_TOKEN, 1000, 10_000, undefined);
    const own = view('c2', [{ key: KA, up: false }]);
    // a answers first (b is a moment late: it times out this once), then both answer.
    fb.hang = true;
    await c2.exchange(own);
    fb.hang = false;
    await c2.exchange(own);
    const names = c2.fresh().map((v) => v.vantage).sort();
    // Two peers configured: at most two peer views may count, and never this controller's old self.
    expect(names).not.toContain('c');
    expect(names.length).toBeLessThanOrEqual(2);
  });

  it('DEFECT the relayed old self outvotes the live controllers: a node two of three live controllers see down stays published', async () => {
    const oldC = view('c', [{ key: KA, up: true }]);
    const fa = await peer(() => ({ ...view('a', [{ key: KA, up: false }]), heard: [{ view: oldC, ageMs: 10 }, { view: view('b', [{ key: KA, up: true }]), ageMs: 10 }] }));
    const fb = await peer(() => view('b', [{ key: KA, up: true }]));
    const c2 = new Peers([fa.url, fb.url], 'c2', PEER_TOKEN, 1000, 10_000, undefined);
    const own = view('c2', [{ key: KA, up: false }]);
    fb.hang = true;
    await c2.exchange(own);
    fb.hang = false;
    await c2.exchange(own);
    const d = decide({
      endpoints: [{ key: KA, node: 'node-a', address: '127.0.0.71', type: 'A' }],
      views: [own, ...c2.fresh()],
      vantages: 3,
      drains: new Map(),
      memory: new Map(),
      now: Date.now(),
      settings: { minHoldMs: 0, staleAfterMs: 0 },
    });
    // Live: a down, b up, c2 down → 2 of 3 down → withdrawn (fail-open aside: it is the only A, so check the votes).
    expect(d.endpoints[0].downVotes.length * 2 > d.endpoints[0].downVotes.length + d.endpoints[0].upVotes.length).toBe(true);
  });
});
