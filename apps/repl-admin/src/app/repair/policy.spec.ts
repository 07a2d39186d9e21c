import type { ReplicaStatusDto } from '@vita/contracts';
import { render } from '../db/sql';
import { type AutoHistory, type AutoSettings, decide } from './policy';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const settings: AutoSettings = { enabled: true, maxPerHour: 3, backoffSeconds: 10, confirmSeconds: 5, graceSeconds: 3 };
const fresh = (): AutoHistory => ({ times: [], pending: null, disabledReason: null });
const replica = (state: ReplicaStatusDto['state'], errno = 0, extra: Partial<ReplicaStatusDto> = {}): ReplicaStatusDto =>
  ({
    name: 'replica1',
    state,
    since: new Date(NOW - 60_000).toISOString(),
    error: errno ? { thread: state === 'SQL_ERROR' ? 'sql' : 'io', errno, message: `error ${errno}` } : null,
    ioThread: state === 'IO_CONNECTING' ? 'Connecting' : state === 'IO_ERROR' ? 'No' : 'Yes',
    sqlThread: state === 'SQL_ERROR' ? 'No' : 'Yes',
    ...extra,
  }) as ReplicaStatusDto;
const upLongAgo = NOW - 60_000;
const act = (r: ReplicaStatusDto, h = fresh(), up: number | null = upLongAgo) => decide(r, h, NOW, up, settings);

describe('automatic repair policy', () => {
  it('starts an IO thread stopped on a connection error, restarts one stuck connecting, restarts the SQL thread after a lock error', () => {
    const statements = (d: ReturnType<typeof decide>) => (d.kind === 'act' ? d.statements.map(render) : d.why);
    expect(statements(act(replica('IO_ERROR', 2003)))).toEqual(['START REPLICA IO_THREAD']);
    expect(statements(act(replica('IO_CONNECTING', 2013)))).toEqual(['STOP REPLICA IO_THREAD', 'START REPLICA IO_THREAD']);
    expect(statements(act(replica('SQL_ERROR', 1205)))).toEqual(['START REPLICA SQL_THREAD']);
    expect(statements(act(replica('SQL_ERROR', 1213)))).toEqual(['START REPLICA SQL_THREAD']);
  });

  it.each([1062, 1032, 1146, 1950])('never acts on data error %i', (errno) => {
    expect(act(replica('SQL_ERROR', errno))).toEqual({ kind: 'wait', why: `error ${errno} is not repaired automatically: it waits for a person` });
  });

  it('never acts on 1236, a wrong password, a stopped or diverged replica, nor while the primary is unreachable', () => {
    for (const r of [replica('IO_ERROR', 1236), replica('IO_CONNECTING', 1045), replica('STOPPED'), replica('DIVERGED'), replica('UNCONFIGURED'), replica('OK'), replica('LAGGING')]) {
      expect(act(r).kind).toBe('wait');
    }
    expect(act(replica('IO_ERROR', 2003), fresh(), null)).toEqual({ kind: 'wait', why: 'the primary is unreachable: nothing is done automatically' });
  });

  it('never restarts replication that failed on TLS (a restart cannot fix a certificate), whatever the IO thread shows', () => {
    for (const r of [replica('TLS_ERROR', 2026, { ioThread: 'Connecting' }), replica('TLS_ERROR', 2026, { ioThread: 'No' }), replica('IO_CONNECTING', 2026), replica('IO_ERROR', 2026)]) {
      expect(act(r)).toEqual({ kind: 'wait', why: 'error 2026 is not repaired automatically: it waits for a person' });
    }
  });

  it('gives a connecting IO thread the grace period after the primary answers again', () => {
    expect(act(replica('IO_CONNECTING', 2003), fresh(), NOW - 1000)).toMatchObject({ kind: 'wait', why: expect.stringMatching(/waiting 2 s more/) });
    expect(act(replica('IO_CONNECTING', 2003), fresh(), NOW - 3000)).toMatchObject({ kind: 'act', repair: 'restart-io' });
  });

  it('backs off between actions (doubling) and stops at the hourly cap', () => {
    const r = replica('IO_ERROR', 2003);
    expect(act(r, { ...fresh(), times: [NOW - 5_000] })).toMatchObject({ kind: 'wait', why: expect.stringMatching(/backing off/) });
    expect(act(r, { ...fresh(), times: [NOW - 11_000] }).kind).toBe('act');
    expect(act(r, { ...fresh(), times: [NOW - 30_000, NOW - 15_000] })).toMatchObject({ kind: 'wait', why: expect.stringMatching(/backing off/) }); // 20 s after the 2nd
    expect(act(r, { ...fresh(), times: [NOW - 3_000_000, NOW - 2_000_000, NOW - 1_000_000] })).toEqual({ kind: 'wait', why: 'hourly cap of 3 automatic actions reached' });
    expect(act(r, { ...fresh(), times: [NOW - 4_000_000, NOW - 2_000_000, NOW - 1_000_000] }).kind).toBe('act'); // one fell out of the hour
  });

  it('judges an action after its confirmation window; one that did not help turns automation off for the replica', () => {
    const pending = (kind: 'start-io' | 'restart-sql', at = NOW - 1000): AutoHistory => ({ ...fresh(), pending: { kind, at, confirmUntil: at + 5000 } });
    expect(act(replica('OK'), pending('start-io')).kind).toBe('wait');
    expect(act(replica('OK'), pending('start-io', NOW - 6000))).toMatchObject({ kind: 'judge', helped: true });
    expect(act(replica('IO_ERROR', 2003), pending('start-io'))).toMatchObject({ kind: 'judge', helped: false });
    expect(act(replica('SQL_ERROR', 1205), pending('restart-sql'))).toMatchObject({ kind: 'judge', helped: false, why: expect.stringMatching(/did not help: SQL_ERROR 1205 again/) });
    expect(act(replica('IO_CONNECTING', 2003), pending('start-io', NOW - 6000))).toMatchObject({ kind: 'judge', helped: false });
    expect(act(replica('IO_ERROR', 2003), { ...fresh(), disabledReason: 'start-io did not help' })).toMatchObject({ kind: 'wait', why: expect.stringMatching(/off for this replica/) });
    expect(decide(replica('IO_ERROR', 2003), fresh(), NOW, upLongAgo, { ...settings, enabled: false }).kind).toBe('wait');
  });
});
