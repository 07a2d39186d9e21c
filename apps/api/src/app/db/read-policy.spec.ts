import { Context, judge, Observation, readiness, Reference, VersionHistory } from './read-policy';

const replicating = { Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes', Seconds_Behind_Master: 0 };
const replica = (over: Partial<Observation> = {}): Observation => ({ role: 'replica', version: 5, replica: replicating, heartbeatMs: 100_000, ...over });
const context = (over: Partial<Context> = {}): Context => ({ primaryReachable: true, referenceHeartbeatMs: 100_500, versionBehind: null, servedVersion: 5, maxLagSeconds: 30, ...over });

describe('judging a read database', () => {
  it('a configured replica replicating within the bound is healthy, with its heartbeat lag', () => {
    expect(judge(replica(), context())).toEqual({ state: 'healthy', lagSeconds: 0.5 });
  });

  it('a configured replica with an empty SHOW REPLICA STATUS is not replicating, never taken for a primary', () => {
    expect(judge(replica({ replica: undefined }), context())).toEqual({
      state: 'stale',
      reason: expect.stringMatching(/^not replicating: .*SHOW REPLICA STATUS is empty/),
    });
  });

  it('a configured primary is healthy without any replication status', () => {
    expect(judge({ role: 'primary', version: 7, replica: undefined, heartbeatMs: null }, context())).toEqual({ state: 'healthy' });
  });

  it('a stopped SQL thread is not replicating, with the error number', () => {
    const row = { ...replicating, Slave_SQL_Running: 'No', Last_SQL_Errno: 1062 };
    expect(judge(replica({ replica: row }), context())).toMatchObject({ state: 'stale', reason: 'not replicating: SQL thread No (error 1062)' });
  });

  it('lag is what the replica applied of the heartbeat, not Seconds_Behind_Master', () => {
    const claimsCurrent = { ...replicating, Seconds_Behind_Master: 0 };
    expect(judge(replica({ replica: claimsCurrent, heartbeatMs: 50_000 }), context())).toEqual({
      state: 'stale',
      lagSeconds: 50.5,
      reason: "its applied heartbeat is 50.5 s behind the primary's (bound 30 s)",
    });
    const claimsLagging = { ...replicating, Seconds_Behind_Master: 9000 };
    expect(judge(replica({ replica: claimsLagging }), context())).toEqual({ state: 'healthy', lagSeconds: 0.5 });
  });

  it('a replica behind the primary\'s version for longer than the bound is stale', () => {
    expect(judge(replica(), context({ versionBehind: { version: 6, forMs: 31_000 } }))).toEqual({
      state: 'stale',
      lagSeconds: 0.5,
      reason: 'at version 5, behind version 6 that the primary holds, for 31 s (bound 30 s)',
    });
    expect(judge(replica(), context({ versionBehind: { version: 6, forMs: 29_000 } }))).toMatchObject({ state: 'healthy' });
  });

  it('a database behind the version this api has served is passed over, whatever its role', () => {
    expect(judge(replica({ version: 4 }), context())).toMatchObject({ state: 'stale', reason: expect.stringContaining('behind version 5 that this api has served') });
    expect(judge({ role: 'primary', version: 4, replica: undefined, heartbeatMs: null }, context())).toMatchObject({ state: 'stale' });
    expect(judge(replica({ version: 6 }), context())).toMatchObject({ state: 'healthy' });
    expect(judge(replica({ version: 1 }), context({ servedVersion: undefined }))).toMatchObject({ state: 'healthy' });
  });

  it('a replica not connected to the primary but applying all it has is reconnecting; no heartbeat to compare, no lag', () => {
    const row = { ...replicating, Slave_IO_Running: 'Connecting' };
    expect(judge(replica({ replica: row }), context({ referenceHeartbeatMs: null }))).toEqual({
      state: 'reconnecting',
      reason: 'not connected to the primary: IO thread Connecting',
    });
  });
});

describe('while the primary is unreachable, replicas are judged against the newest copy known', () => {
  const connecting = { ...replicating, Slave_IO_Running: 'Connecting' };
  const down = (over: Partial<Context> = {}) => context({ primaryReachable: false, ...over });

  it('a replica far behind the newest reachable copy is stale, named as such, never reconnecting', () => {
    expect(judge(replica({ replica: connecting, heartbeatMs: 100_000 }), down({ referenceHeartbeatMs: 3_700_000, maxLagSeconds: 2 }))).toEqual({
      state: 'stale',
      lagSeconds: 3600,
      reason: "its applied heartbeat is 3600 s behind the newest known while the primary is unreachable (another replica's, or the primary's last) (bound 2 s)",
    });
  });

  it('replicas all equally current still serve (reconnecting), with no lag', () => {
    expect(judge(replica({ replica: connecting }), down({ referenceHeartbeatMs: 100_000 }))).toEqual({
      state: 'reconnecting',
      lagSeconds: 0,
      reason: 'not connected to the primary: IO thread Connecting',
    });
  });

  it('without heartbeats, a replica behind a newer version held since before this api saw it is stale at once', () => {
    const judged = judge(replica({ replica: connecting, heartbeatMs: null, version: 1 }), down({ referenceHeartbeatMs: null, servedVersion: undefined, versionBehind: { version: 4, forMs: Infinity } }));
    expect(judged).toEqual({
      state: 'stale',
      reason:
        'at version 1, behind version 4 that is the newest known while the primary is unreachable (on another replica, or the primary when last seen), since before this api first saw it, so for an unknown time (bound 30 s)',
    });
  });
});

describe('the reference', () => {
  const at = (name: string, version: number, heartbeatMs: number | null = null) => ({ name, version, heartbeatMs });

  it('is the primary while it answers; a replica ahead of it (a restore) never moves the versions', () => {
    const ref = new Reference();
    expect(ref.update(at('p', 3, 1000), [at('r1', 3, 900)], 0)).toEqual({ primaryReachable: true, heartbeatMs: 1000 });
    expect(ref.update(at('p', 1, 1100), [at('r1', 3, 1000)], 10)).toEqual({ primaryReachable: true, heartbeatMs: 1100 });
    expect(ref.versions.behind(1, 20)).toBeNull();
  });

  it("while the primary is unreachable: the newest of its last heartbeat and every reachable replica's", () => {
    const ref = new Reference();
    ref.update(at('p', 4, 5000), [at('r1', 4, 5000), at('r2', 1, 1000)], 0);
    expect(ref.update(undefined, [at('r1', 4, 4900), at('r2', 1, 1000)], 100)).toEqual({ primaryReachable: false, heartbeatMs: 5000 });
    expect(ref.update(undefined, [at('r1', 4, 5200)], 200)).toEqual({ primaryReachable: false, heartbeatMs: 5200 });
    expect(ref.update(undefined, [at('r1', 4, null)], 300)).toEqual({ primaryReachable: false, heartbeatMs: 5000 });
  });

  it('a fresh api that never saw the primary takes the newest replica version, held for an unknown time', () => {
    const ref = new Reference();
    expect(ref.update(undefined, [at('r1', 1, null), at('r2', 4, null)], 1000)).toEqual({ primaryReachable: false, heartbeatMs: null });
    expect(ref.versions.behind(1, 1000)).toEqual({ version: 4, forMs: Infinity });
    expect(ref.versions.behind(4, 1000)).toBeNull();
  });

  it('a newer version seen on a server seen before is timed from then; one seen on a server first seen now, not', () => {
    const ref = new Reference();
    ref.update(at('p', 2), [], 0);
    expect(ref.versions.behind(1, 500)).toEqual({ version: 2, forMs: Infinity });
    ref.update(at('p', 3), [], 1000);
    expect(ref.versions.behind(2, 1500)).toEqual({ version: 3, forMs: 500 });
    ref.update(undefined, [at('r1', 5)], 2000);
    expect(ref.versions.behind(3, 2500)).toEqual({ version: 5, forMs: Infinity });
    ref.update(undefined, [at('r1', 6)], 3000);
    expect(ref.versions.behind(5, 3500)).toEqual({ version: 6, forMs: 500 });
  });
});

describe('the version history', () => {
  it('tells how long a version newer than a given one has been known', () => {
    const seen = new VersionHistory();
    seen.record(3, 1000);
    seen.record(3, 1500);
    seen.record(5, 2000);
    expect(seen.behind(5, 9000)).toBeNull();
    expect(seen.behind(4, 9000)).toEqual({ version: 5, forMs: 7000 });
    expect(seen.behind(2, 9000)).toEqual({ version: 3, forMs: 8000 });
  });

  it('keeps a bounded list and starts again when the primary goes back (a restore); a copy only ever adds', () => {
    const seen = new VersionHistory(2);
    seen.record(1, 0);
    seen.record(2, 10);
    seen.record(3, 20);
    expect(seen.behind(0, 100)).toEqual({ version: 2, forMs: 90 });
    seen.raise(1, 150);
    expect(seen.behind(2, 300)).toEqual({ version: 3, forMs: 280 });
    seen.record(1, 200);
    expect(seen.behind(0, 300)).toEqual({ version: 1, forMs: 100 });
    expect(seen.behind(2, 300)).toBeNull();
  });
});

describe('readiness', () => {
  const healthy = { state: 'healthy' as const, version: 7 };

  it('is ready while the active database is healthy or reconnecting', () => {
    expect(readiness(healthy, healthy, 7)).toEqual({ ok: true });
    expect(readiness({ state: 'reconnecting', version: 7 }, { state: 'down' }, 7)).toEqual({ ok: true });
  });

  it('is not ready with no database, or a stale best one, and says why', () => {
    expect(readiness(undefined, { state: 'down' }, undefined)).toEqual({ ok: false, error: 'no read database is reachable' });
    expect(readiness({ state: 'stale', reason: 'lagging' }, healthy, 7)).toEqual({ ok: false, error: 'best read database is stale: lagging' });
  });

  it('says plainly when the primary is below the version served (a restore) and what the operator does', () => {
    const result = readiness(healthy, { state: 'stale', version: 1 }, 7);
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/^the primary is at version 1, below version 7 that this api has served: likely restored from a backup/);
    expect(result.error).toContain('UPDATE vita.resume_state SET version = 8, updated_at = UTC_TIMESTAMP(3) WHERE id = 1');
  });

  it('the primary itself, judged below the version served, says the same', () => {
    expect(judge({ role: 'primary', version: 1, replica: undefined, heartbeatMs: null }, context({ servedVersion: 7 }))).toEqual({
      state: 'stale',
      reason: expect.stringMatching(/^the primary is at version 1, below version 7 that this api has served: likely restored/),
    });
  });
});
