import { validateConfig } from '../config/config';
import { Backend, slowStartWeight } from './backend';
import { Balancer, FULL } from './balancer';

const make = (weights: number[], maxconn = 100) =>
  validateConfig({ backends: weights.map((weight, i) => ({ name: `b${i}`, url: `http://127.0.0.1:${1000 + i}`, weight, maxconn })) }).backends.map((c) => new Backend(c, c.maxconn));
const names = (picked: (Backend | typeof FULL | null)[]) => picked.map((p) => (p instanceof Backend ? p.name : String(p))).join(' ');

describe('Balancer', () => {
  it('round-robin shares requests by weight, interleaved', () => {
    const balancer = new Balancer(make([3, 1]), 'round-robin', 0);
    const picks = Array.from({ length: 8 }, () => balancer.pick(0));
    expect(names(picks)).toBe('b0 b0 b1 b0 b0 b0 b1 b0');
    const five = new Balancer(make([5, 1, 1]), 'round-robin', 0);
    // nginx's smooth weighted round-robin: a a b a c a a, never five a's in a row
    expect(names(Array.from({ length: 7 }, () => five.pick(0)))).toBe('b0 b0 b1 b0 b2 b0 b0');
  });

  it('passes over backends that are out of service, at maxconn, or already tried', () => {
    const backends = make([1, 1, 1], 1);
    const balancer = new Balancer(backends, 'round-robin', 0);
    backends[0].setRoute({ name: 'b0', up: false, admin: 'ready', upSince: 0 });
    backends[1].setRoute({ name: 'b1', up: true, admin: 'drain', upSince: 0 });
    expect(names([balancer.pick(0), balancer.pick(0, [backends[2]])])).toBe('b2 b2');
    backends[2].counters.active = 1;
    expect(balancer.pick(0)).toBe(FULL);
    backends[2].setRoute({ name: 'b2', up: false, admin: 'ready', upSince: 0 });
    expect(balancer.pick(0)).toBeNull();
  });

  it('least-outstanding picks the backend with the fewest requests in flight for its weight', () => {
    const backends = make([1, 1, 2]);
    const balancer = new Balancer(backends, 'least-outstanding', 0);
    backends[0].counters.active = 3;
    backends[1].counters.active = 1;
    backends[2].counters.active = 2;
    // scores (active+1)/weight: 4, 2, 1.5
    expect(balancer.pick(0)).toBe(backends[2]);
    backends[2].counters.active = 4;
    expect(balancer.pick(0)).toBe(backends[1]);
    // ties are shared out in turn
    for (const b of backends) b.counters.active = 0;
    backends[2].config.weight = 1;
    expect(new Set(Array.from({ length: 3 }, () => (balancer.pick(0) as Backend).name)).size).toBe(3);
  });

  it('slow start ramps a recovered backend from 5% to its full weight', () => {
    expect(slowStartWeight(10, 1000, 1000, 10_000)).toBe(0.5);
    expect(slowStartWeight(10, 1000, 6000, 10_000)).toBe(5);
    expect(slowStartWeight(10, 1000, 11_000, 10_000)).toBe(10);
    expect(slowStartWeight(10, 0, 5, 10_000)).toBe(10);
    const backends = make([1, 1]);
    backends[1].setRoute({ name: 'b1', up: true, admin: 'ready', upSince: 1000 });
    const balancer = new Balancer(backends, 'round-robin', 10_000);
    const early = Array.from({ length: 100 }, () => balancer.pick(1500)).filter((b) => b === backends[1]).length;
    const late = Array.from({ length: 100 }, () => balancer.pick(20_000)).filter((b) => b === backends[1]).length;
    expect(early).toBeLessThan(10);
    expect(late).toBe(50);
  });
});
