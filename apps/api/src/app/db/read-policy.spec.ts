import { Context, judge, Observation, PrimaryVersions } from './read-policy';

const replicating = { Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes', Seconds_Behind_Master: 0 };
const replica = (over: Partial<Observation> = {}): Observation => ({ role: 'replica', version: 5, replica: replicating, heartbeatMs: 100_000, ...over });
const context = (over: Partial<Context> = {}): Context => ({ primaryHeartbeatMs: 100_500, versionBehindMs: null, servedVersion: 5, maxLagSeconds: 30, ...over });

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
    expect(judge(replica(), context({ versionBehindMs: 31_000 }))).toMatchObject({ state: 'stale', reason: expect.stringContaining('behind the primary') });
    expect(judge(replica(), context({ versionBehindMs: 29_000 }))).toMatchObject({ state: 'healthy' });
  });

  it('a database behind the version this api has served is passed over, whatever its role', () => {
    expect(judge(replica({ version: 4 }), context())).toMatchObject({ state: 'stale', reason: expect.stringContaining('behind version 5 that this api has served') });
    expect(judge({ role: 'primary', version: 4, replica: undefined, heartbeatMs: null }, context())).toMatchObject({ state: 'stale' });
    expect(judge(replica({ version: 6 }), context())).toMatchObject({ state: 'healthy' });
    expect(judge(replica({ version: 1 }), context({ servedVersion: undefined }))).toMatchObject({ state: 'healthy' });
  });

  it('a replica not connected to the primary but applying all it has is reconnecting; no heartbeat to compare, no lag', () => {
    const row = { ...replicating, Slave_IO_Running: 'Connecting' };
    expect(judge(replica({ replica: row }), context({ primaryHeartbeatMs: null }))).toEqual({
      state: 'reconnecting',
      reason: 'not connected to the primary: IO thread Connecting',
    });
  });
});

describe('the primary\'s versions', () => {
  it('tells how long the primary has held a version newer than a given one', () => {
    const seen = new PrimaryVersions();
    seen.record(3, 1000);
    seen.record(3, 1500);
    seen.record(5, 2000);
    expect(seen.behindMs(5, 9000)).toBeNull();
    expect(seen.behindMs(4, 9000)).toBe(7000);
    expect(seen.behindMs(2, 9000)).toBe(8000);
  });

  it('keeps a bounded list and starts again when the primary goes back (a restore)', () => {
    const seen = new PrimaryVersions(2);
    seen.record(1, 0);
    seen.record(2, 10);
    seen.record(3, 20);
    expect(seen.behindMs(0, 100)).toBe(90);
    seen.record(1, 200);
    expect(seen.behindMs(0, 300)).toBe(100);
    expect(seen.behindMs(2, 300)).toBeNull();
  });
});
