import { FakePeer, view } from '../../attack/attack-helpers';
import { PEER_TOKEN } from '../../test/controller-harness';
import { Peers } from './peer-client';

const KA = 'node-a@127.0.0.71';

describe('Peers.exchange', () => {
  let peer: FakePeer;
  afterEach(() => peer?.close());

  it('skips a peer with an exchange in flight, but an urgent one (an operator’s drain) reaches it at once', async () => {
    peer = await FakePeer.start(() => view('b', [{ key: KA, up: true }]));
    const peers = new Peers([peer.url], 'a', PEER_TOKEN, 1500, 10_000, undefined);
    const own = view('a', [{ key: KA, up: false }]);
    peer.hang = true;
    const held = peers.exchange(own);
    await new Promise((r) => setTimeout(r, 200));
    peer.hang = false;
    await peers.exchange(own);
    expect(peer.requests).toBe(1);
    const answers: string[] = [];
    await peers.exchange(own, (v) => answers.push(v.vantage), true);
    expect([peer.requests, answers]).toEqual([2, ['b']]);
    await held;
    // Once the held one has ended, ordinary exchanges reach the peer again.
    await peers.exchange(own);
    expect(peer.requests).toBe(3);
  });
});
