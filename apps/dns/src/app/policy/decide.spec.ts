import type { DrainRecord, Endpoint, EndpointView, VantageView } from '../model';
import { decide, type DecideInput, mergeDrains, type Memory } from './decide';

const A: Endpoint = { key: 'node-a@10.0.0.1', node: 'node-a', address: '10.0.0.1', type: 'A' };
const B: Endpoint = { key: 'node-b@10.0.0.2', node: 'node-b', address: '10.0.0.2', type: 'A' };
const A6: Endpoint = { key: 'node-a@2001:db8::1', node: 'node-a', address: '2001:db8::1', type: 'AAAA' };
const B6: Endpoint = { key: 'node-b@2001:db8::2', node: 'node-b', address: '2001:db8::2', type: 'AAAA' };
const NOW = Date.parse('2026-12-01T12:00:00Z');

/** A vantage point's view: `up` per endpoint key, with the version each serves. */
const view = (vantage: string, up: Record<string, boolean>, versions: Record<string, number> = {}): VantageView => ({
  vantage,
  at: new Date(NOW).toISOString(),
  rounds: 3,
  drains: [],
  endpoints: Object.entries(up).map(([key, isUp]): EndpointView => ({
    key,
    up: isUp,
    since: new Date(NOW - 60_000).toISOString(),
    last: { ok: isUp, at: new Date(NOW).toISOString(), durationMs: 1, ...(versions[key] !== undefined ? { version: versions[key] } : {}) },
  })),
});
const input = (over: Partial<DecideInput>): DecideInput => ({
  endpoints: [A, B],
  views: [],
  vantages: 1,
  drains: new Map(),
  memory: new Map(),
  now: NOW,
  settings: { minHoldMs: 20_000, staleAfterMs: 60_000 },
  ...over,
});
const drain = (node: string, drained: boolean, at: string, by = 'w', seq = 1): DrainRecord => ({ node, drained, seq, reason: `${drained ? 'drain' : 'undrain'} ${at}`, at, by });

describe('decide', () => {
  it('publishes every endpoint the vantage points see up', () => {
    const d = decide(input({ views: [view('w', { [A.key]: true, [B.key]: true })] }));
    expect(d.records).toEqual({ A: ['10.0.0.1', '10.0.0.2'] });
    expect(d.endpoints.map((e) => e.verdict)).toEqual(['healthy', 'healthy']);
  });

  it('withdraws an endpoint a strict majority of the vantage points see down; a tie keeps it', () => {
    const majority = decide(input({ vantages: 3, views: [view('w', { [A.key]: false, [B.key]: true }), view('b', { [A.key]: false, [B.key]: true }), view('c', { [A.key]: true, [B.key]: true })] }));
    expect(majority.records.A).toEqual(['10.0.0.2']);
    expect(majority.endpoints[0]).toMatchObject({ verdict: 'down', downVotes: ['w', 'b'], upVotes: ['c'], reason: '2 of 3 vantage points see it down' });
    const tie = decide(input({ vantages: 2, views: [view('w', { [A.key]: false, [B.key]: true }), view('b', { [A.key]: true, [B.key]: true })] }));
    expect(tie.records.A).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('has quorum only while a strict majority of all vantage points is heard from', () => {
    const one = [view('w', { [A.key]: true, [B.key]: true })];
    expect(decide(input({ vantages: 3, views: one })).quorum).toBe(false);
    expect(decide(input({ vantages: 3, views: [...one, view('b', { [A.key]: true, [B.key]: true })] })).quorum).toBe(true);
    expect(decide(input({ vantages: 2, views: one })).quorum).toBe(false);
    expect(decide(input({ vantages: 1, views: one })).quorum).toBe(true);
  });

  it('fails open: when every endpoint of a type is down, all of them are published', () => {
    const d = decide(input({ views: [view('w', { [A.key]: false, [B.key]: false })] }));
    expect(d.records.A).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(d.failOpen).toEqual(['A']);
    expect(d.endpoints.map((e) => e.verdict)).toEqual(['fail-open', 'fail-open']);
    expect(d.endpoints[0].reason).toMatch(/fail open/);
  });

  it('decides A and AAAA apart: one type failing open leaves the other as judged', () => {
    const d = decide(input({ endpoints: [A, B, A6, B6], views: [view('w', { [A.key]: false, [B.key]: true, [A6.key]: false, [B6.key]: false })] }));
    expect(d.records).toEqual({ A: ['10.0.0.2'], AAAA: ['2001:db8::1', '2001:db8::2'] });
    expect(d.failOpen).toEqual(['AAAA']);
  });

  it('withdraws a drained node (all its addresses) whatever its health, and never fails open onto it', () => {
    const drains = new Map([['node-a', drain('node-a', true, '2026-12-01T11:59:00Z')]]);
    const d = decide(input({ endpoints: [A, B, A6], drains, views: [view('w', { [A.key]: true, [B.key]: false, [A6.key]: true })] }));
    expect(d.records).toEqual({ A: ['10.0.0.2'], AAAA: [] });
    expect(d.endpoints.find((e) => e.key === A.key)?.verdict).toBe('drained');
    expect(d.endpoints.find((e) => e.key === B.key)?.verdict).toBe('fail-open');
  });

  it('keeps the node drained last in when every node is drained (drains merged from several controllers)', () => {
    const drains = new Map([
      // node-a has the longer history (seq 7), node-b was drained last.
      ['node-a', drain('node-a', true, '2026-12-01T11:58:00Z', 'w', 7)],
      ['node-b', drain('node-b', true, '2026-12-01T11:59:00Z', 'x', 1)],
    ]);
    const d = decide(input({ drains, views: [view('w', { [A.key]: true, [B.key]: true })] }));
    expect(d.records.A).toEqual(['10.0.0.2']);
    expect(d.keptDrained).toBe('node-b');
    expect(d.endpoints[1].reason).toMatch(/every node is drained: node-b, drained last, is kept in/);
  });

  it('takes the version the vantage points that see a node up agree on (lower median): one view cannot make the others stale', () => {
    const liar = view('x', { [A.key]: true, [B.key]: true }, { [A.key]: 1, [B.key]: 999 });
    const honest = view('w', { [A.key]: true, [B.key]: true }, { [A.key]: 1, [B.key]: 1 });
    const memory = new Map<string, Memory>([[A.key, { published: true, since: 0, behindSince: NOW - 600_000 }]]);
    const d = decide(input({ vantages: 2, views: [honest, liar], memory }));
    expect(d.endpoints.map((e) => [e.verdict, e.version])).toEqual([['healthy', 1], ['healthy', 1]]);
    const third = view('y', { [A.key]: true, [B.key]: true }, { [A.key]: 1, [B.key]: 999 });
    // A majority of them report the newer version: it is the version.
    expect(decide(input({ vantages: 3, views: [honest, liar, third] })).endpoints[1].version).toBe(999);
  });

  it('withdraws a node that serves an older version than another healthy one, once it has been behind for staleAfterMs', () => {
    const v = view('w', { [A.key]: true, [B.key]: true }, { [A.key]: 7, [B.key]: 9 });
    const first = decide(input({ views: [v] }));
    expect(first.records.A).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(first.memory.get(A.key)?.behindSince).toBe(NOW);
    const later = decide(input({ views: [v], memory: first.memory, now: NOW + 60_000 }));
    expect(later.records.A).toEqual(['10.0.0.2']);
    expect(later.endpoints[0]).toMatchObject({ verdict: 'stale', version: 7 });
    expect(later.endpoints[0].reason).toBe('serves version 7 while version 9 is served elsewhere, for 60 s');
    // Caught up: not behind any more.
    const caughtUp = decide(input({ views: [view('w', { [A.key]: true, [B.key]: true }, { [A.key]: 9, [B.key]: 9 })], memory: later.memory, now: NOW + 61_000 }));
    expect(caughtUp.memory.get(A.key)?.behindSince).toBeNull();
  });

  it('does not judge staleness against a version only a down or drained node serves, and a staleAfterMs of 0 turns it off', () => {
    const v = view('w', { [A.key]: true, [B.key]: false }, { [A.key]: 7, [B.key]: 9 });
    expect(decide(input({ views: [v] })).memory.get(A.key)?.behindSince).toBeNull();
    const behind = view('w', { [A.key]: true, [B.key]: true }, { [A.key]: 7, [B.key]: 9 });
    const off = decide(input({ views: [behind], settings: { minHoldMs: 0, staleAfterMs: 0 }, memory: new Map([[A.key, { published: true, since: 0, behindSince: 0 }]]) }));
    expect(off.records.A).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('fails open onto the healthy endpoints still held out before the down ones', () => {
    const memory = new Map<string, Memory>([[A.key, { published: false, since: NOW - 5_000, behindSince: null, withdrawnFor: 'down' }]]);
    const d = decide(input({ views: [view('w', { [A.key]: true, [B.key]: false })], memory }));
    expect(d.records.A).toEqual(['10.0.0.1']);
    expect(d.endpoints.map((e) => e.verdict)).toEqual(['fail-open', 'down']);
  });

  it('keeps a withdrawn endpoint out for minHoldMs after its withdrawal, then publishes it', () => {
    const memory = new Map<string, Memory>([[A.key, { published: false, since: NOW - 5_000, behindSince: null, withdrawnFor: 'down' }]]);
    const held = decide(input({ views: [view('w', { [A.key]: true, [B.key]: true })], memory }));
    expect(held.records.A).toEqual(['10.0.0.2']);
    expect(held.endpoints[0].verdict).toBe('held');
    expect(held.memory.get(A.key)?.since).toBe(NOW - 5_000);
    const back = decide(input({ views: [view('w', { [A.key]: true, [B.key]: true })], memory: held.memory, now: NOW + 15_000 }));
    expect(back.records.A).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(back.memory.get(A.key)).toEqual({ published: true, since: NOW + 15_000, behindSince: null });
  });

  it('does not hold back a node that was drained: undrained, it is published at once', () => {
    const drains = new Map([['node-a', drain('node-a', true, '2026-12-01T11:59:59Z')]]);
    const drained = decide(input({ drains, views: [view('w', { [A.key]: true, [B.key]: true })] }));
    expect(drained.memory.get(A.key)).toMatchObject({ published: false, withdrawnFor: 'drained' });
    const undrained = decide(input({ views: [view('w', { [A.key]: true, [B.key]: true })], memory: drained.memory, now: NOW + 1000 }));
    expect(undrained.records.A).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('never holds back a withdrawal: a node published a moment ago is withdrawn as soon as it is judged down', () => {
    const memory = new Map<string, Memory>([[A.key, { published: true, since: NOW - 1, behindSince: null }]]);
    expect(decide(input({ views: [view('w', { [A.key]: false, [B.key]: true })], memory })).records.A).toEqual(['10.0.0.2']);
  });

  it('counts an endpoint a view does not mention as no vote; with no vote at all it stays published', () => {
    const d = decide(input({ views: [view('w', { [B.key]: false })] }));
    expect(d.endpoints[0]).toMatchObject({ verdict: 'healthy', upVotes: [], downVotes: [] });
    expect(d.records.A).toEqual(['10.0.0.1']);
  });
});

describe('mergeDrains', () => {
  it('keeps the record with the highest seq per node, then the later time, then the greater vantage name', () => {
    const merged = mergeDrains([
      [drain('node-a', true, '2026-12-01T10:00:00Z', 'w', 1), drain('node-b', true, '2026-12-01T10:00:00Z', 'a', 3)],
      [drain('node-a', false, '2026-12-01T09:05:00Z', 'b', 2), drain('node-b', false, '2026-12-01T10:00:00Z', 'b', 3)],
      // A clock far ahead does not win over an action that followed it.
      [drain('node-a', true, '9999-12-31T23:59:59Z', 'z', 1)],
    ]);
    expect(merged.get('node-a')).toMatchObject({ drained: false, by: 'b', seq: 2 });
    expect(merged.get('node-b')).toMatchObject({ drained: false, by: 'b', seq: 3 });
  });
});
