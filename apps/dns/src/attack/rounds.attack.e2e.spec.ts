import { randomBytes } from 'node:crypto';
import { freePort } from '@vita/testing';
import { Route53Provider, startRoute53Standin, type Route53Standin } from '@vita/dns-providers';
import { PEER_TOKEN, startController, until, type RunningController } from '../test/controller-harness';
import { FakeNode } from '../test/fake-node';
import { MemoryProvider } from '../test/memory-provider';
import { FakePeer, NAME, SlowProvider, sleep, view } from './attack-helpers';

const ADDR = ['127.0.0.51', '127.0.0.52', '127.0.0.53'];
const ZONE = 'Z0ATTACK0STANDIN';
const ACCESS_KEY = 'AKIDATTACK0000000001';
let port: number;
let nodes: FakeNode[];
const started: RunningController[] = [];
const closers: Array<() => Promise<unknown> | unknown> = [];

const start = async (env: Record<string, string>, providers: Array<MemoryProvider | Route53Provider>) => {
  const c = await startController({ DNS_NAME: NAME, DNS_NODES: nodes.map((n) => `${n.name}=${n.address}`).join(','), DNS_PROBE_PORT: String(port), DNS_VANTAGE: 'w', ...env }, providers);
  started.push(c);
  return c;
};
const served = (p: MemoryProvider) => p.serves(NAME, 'A').join(' ');

beforeAll(async () => {
  port = await freePort();
  nodes = await Promise.all(ADDR.map((addr, i) => FakeNode.start(`node-${'abc'[i]}`, addr, port)));
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((c) => c.close()));
  for (const close of closers.splice(0)) await close();
  for (const n of nodes) n.mode = 'page';
  await Promise.all(nodes.map((n) => n.revive()));
});
afterAll(() => Promise.all(nodes.map((n) => n.kill())));

describe('a slow provider, a hung peer, a hung node: rounds keep their pace', () => {
  it('DEFECT a Route 53 change waiting for INSYNC stops the rounds: the other provider withdraws a second dead node only seconds late', async () => {
    const secret = randomBytes(20).toString('base64');
    const standin: Route53Standin = await startRoute53Standin({ zones: { [ZONE]: 'vita.test' }, accessKeyId: ACCESS_KEY, secretAccessKey: secret, pendingMs: 0, maxPerSecond: 50 });
    closers.push(() => standin.close());
    const r53 = new Route53Provider({
      hostedZoneId: ZONE,
      endpoint: standin.endpoint,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: secret },
      timeoutMs: 3000,
      syncTimeoutMs: 20_000,
      syncPoll: { initialMs: 100, maxMs: 300 },
      requestsPerSecond: 40,
    });
    const mem = new MemoryProvider();
    // Converging rarely, so only the change itself is slow.
    await start({ DNS_CONVERGE_INTERVAL_MS: '60000' }, [r53, mem]);
    const all = ADDR.join(' ');
    await until('all published on both', () => served(mem) === all && (standin.recordSet(ZONE, NAME, 'A')?.values.length ?? 0) === 3);
    // Real Route 53 takes tens of seconds to report INSYNC; here 6 s.
    standin.setPendingMs(6000);
    await nodes[0].kill();
    await until('node-a withdrawn from memory', () => served(mem) === `${ADDR[1]} ${ADDR[2]}`);
    // The Route 53 lane now waits for INSYNC. node-b dies next: with 200 ms rounds and fall 2 it is out in well under 2 s.
    await sleep(200);
    const killed = Date.now();
    await nodes[1].kill();
    await until('node-b withdrawn from memory', () => served(mem) === ADDR[2], 10_000);
    expect(Date.now() - killed).toBeLessThan(2000);
  });

  it('DEFECT a slow (not failing) provider slows every round to its pace, so failover on the fast provider misses its target', async () => {
    const slow = new SlowProvider('slow', 1500);
    const fast = new MemoryProvider('fast');
    // The slow one converges every second (FAST: DNS_CONVERGE_INTERVAL_MS 1000): read 1.5 s.
    await start({}, [slow, fast]);
    await until('all published on fast', () => served(fast) === ADDR.join(' '), 10_000);
    const s0 = await started[0].status();
    await sleep(3000);
    const s1 = await started[0].status();
    // 200 ms rounds: about 15 in 3 s. Require at least 10.
    expect(s1.rounds - s0.rounds).toBeGreaterThanOrEqual(10);
  });

  it('DEFECT a hung peer plus a hung node stretch every round past the probe interval (probe and exchange run one after the other)', async () => {
    const p = new MemoryProvider();
    const hung = await FakePeer.start(() => view('x', []));
    hung.hang = true;
    closers.push(() => hung.close());
    nodes[2].mode = 'hang';
    const c = await start({ DNS_PEERS: hung.url, DNS_PEER_TOKEN: PEER_TOKEN, DNS_PROBE_INTERVAL_MS: '400', DNS_PROBE_TIMEOUT_MS: '350' }, [p]);
    await until('first round', async () => (await c.status()).rounds >= 1);
    const s0 = await c.status();
    const t0 = Date.now();
    await sleep(4000);
    const s1 = await c.status();
    const interval = (Date.now() - t0) / (s1.rounds - s0.rounds);
    // The interval is 400 ms; each bound (probe 350, exchange 350) is below it, yet a round takes 700.
    expect(interval).toBeLessThan(500);
  });
});
