import { freePort } from '@vita/testing';
import { PEER_TOKEN, startController, until, type RunningController } from '../test/controller-harness';
import { FakeNode } from '../test/fake-node';
import { MemoryProvider } from '../test/memory-provider';
import { FakePeer, NAME, sleep, view } from './attack-helpers';

const A = '127.0.0.81';
const B = '127.0.0.82';
let port: number;
let a: FakeNode;
let b: FakeNode;
const started: RunningController[] = [];
const peers: FakePeer[] = [];

beforeAll(async () => {
  port = await freePort();
  [a, b] = await Promise.all([FakeNode.start('node-a', A, port), FakeNode.start('node-b', B, port)]);
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.close()));
  await Promise.all(peers.splice(0).map((f) => f.close()));
});
afterAll(() => Promise.all([a.kill(), b.kill()]));

describe('several writers', () => {
  it('DEFECT an asymmetric partition makes two controllers with quorum overwrite each other on every converge (DNS flaps indefinitely)', async () => {
    const p = new MemoryProvider();
    const [pw, px] = [await freePort(), await freePort()];
    const dead = `http://127.0.0.1:${await freePort()}`;
    // y (a stand-in here) is reachable from w only, and sees node-a down.
    const y = await FakePeer.start(() => view('y', [{ key: `node-a@${A}`, up: false }, { key: `node-b@${B}`, up: true }]));
    peers.push(y);
    const common = { DNS_NAME: NAME, DNS_NODES: `node-a=${A},node-b=${B}`, DNS_PEER_TOKEN: PEER_TOKEN, DNS_CONVERGE_INTERVAL_MS: '1000' };
    // w sees both nodes up; x's uplink is broken (every node looks down from x), and x cannot reach y.
    started.push(await startController({ ...common, DNS_PROBE_PORT: String(port), DNS_VANTAGE: 'w', DNS_PEERS: `http://127.0.0.1:${px},${y.url}` }, [p], pw));
    started.push(await startController({ ...common, DNS_PROBE_PORT: String(await freePort()), DNS_VANTAGE: 'x', DNS_PEERS: `http://127.0.0.1:${pw},${dead}` }, [p], px));
    await until('both controllers have quorum', async () => (await Promise.all(started.map((c) => c.status()))).every((s) => s.quorum));
    await sleep(1000);
    const before = p.replaces;
    const seen = new Set<string>();
    for (let i = 0; i < 80; i++) {
      seen.add(p.serves(NAME, 'A').join(' '));
      await sleep(50);
    }
    // Both have quorum and each applies the majority rule to the views it hears: w withdraws node-a
    // (w up, x down, y down), x keeps it (w up, x down: a tie). They must not take turns rewriting DNS.
    expect({ replaces: p.replaces - before, answers: seen.size }).toEqual({ replaces: 0, answers: 1 });
  });
});
