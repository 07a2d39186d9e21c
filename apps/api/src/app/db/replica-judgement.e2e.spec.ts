import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { MariaServer } from '@vita/mariadb';
import { sampleResume } from '@vita/testing';
import { apiEnv, ApiDatabases, eventually, startApi, startApiDatabases } from '../../test/api-stack';

interface DbStatus {
  name: string;
  role?: string;
  state: string;
  version?: number;
  lagSeconds?: number;
  reason?: string;
}
interface Ready {
  status: string;
  checks: { error?: string; detail: { active: string | null; servedVersion: number | null; databases: DbStatus[]; primary: DbStatus } }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const versionOf = (etag: unknown): number => Number(/^"v(\d+)"$/.exec(String(etag))?.[1] ?? NaN);

/** One replica and the primary, read in that order, as a content node of one replica has them. */
describe('what a replica has applied decides whether it serves', () => {
  let dbs: ApiDatabases;
  let replica: MariaServer;
  let primary: MariaServer;
  const apps: NestFastifyApplication[] = [];
  const sample = sampleResume();
  const name = (s: MariaServer) => `${s.host}:${s.port}`;

  const ready = async (app: NestFastifyApplication): Promise<{ code: number; body: Ready }> => {
    const res = await app.inject({ method: 'GET', url: '/health/ready' });
    return { code: res.statusCode, body: res.json() };
  };
  const detail = async (app: NestFastifyApplication) => (await ready(app)).body.checks[0].detail;
  const servedVersion = async (app: NestFastifyApplication) => versionOf((await app.inject({ method: 'GET', url: '/api/v1/resume' })).headers.etag);
  const put = async (app: NestFastifyApplication, label: string): Promise<number> => {
    const res = await app.inject({
      method: 'PUT',
      url: '/api/v1/resume',
      headers: { authorization: `Bearer ${dbs.adminToken}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ ...sample, basics: { ...sample.basics, label } }),
    });
    expect(res.statusCode).toBe(200);
    return (res.json() as { version: number }).version;
  };
  const start = async (overrides: Record<string, string> = {}) => {
    const app = await startApi(apiEnv(dbs, overrides, [replica, primary]));
    apps.push(app);
    return app;
  };
  const setDelay = async (seconds: number) => {
    await replica.query('STOP REPLICA');
    await replica.query(`CHANGE MASTER TO MASTER_DELAY = ${seconds}`);
    await replica.query('START REPLICA');
  };

  beforeAll(async () => {
    dbs = await startApiDatabases(1);
    [replica] = dbs.topology.replicas;
    primary = dbs.topology.primary;
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await dbs?.topology.close();
  });

  it('versions never go backwards: a replica stopped, written past and restarted is passed over until it catches up', async () => {
    const app = await start();
    const first = await put(app, 'first');
    await dbs.topology.waitForReplicas();
    await eventually(async () => (await detail(app)).active === name(replica) && (await servedVersion(app)) === first, 5000, 'reads from the replica');

    const seen: number[] = [];
    const reports: DbStatus[] = [];
    let last = first;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        seen.push(await servedVersion(app));
        await sleep(5);
      }
    })();
    try {
      await replica.query('STOP REPLICA');
      for (let i = 0; i < 3; i++) last = await put(app, `while stopped ${i}`);
      await eventually(async () => (await servedVersion(app)) === last, 5000, `the api to serve v${last} from the primary`);
      expect((await detail(app)).active).toBe(name(primary));

      // Started again, it takes seconds to apply what it missed (MASTER_DELAY makes the catching up last long enough to watch).
      await replica.query('CHANGE MASTER TO MASTER_DELAY = 3');
      await replica.query('START REPLICA');
      await eventually(
        async () => {
          const now = await detail(app);
          reports.push(now.databases[0]);
          return now.active === name(replica) && (await servedVersion(app)) === last;
        },
        15_000,
        'reads to return to the replica once it has caught up',
      );
    } finally {
      polling = false;
      await poller;
      await setDelay(0);
    }
    expect(seen.length).toBeGreaterThan(50);
    expect(seen.every((v) => Number.isInteger(v))).toBe(true);
    const decreases = seen.filter((v, i) => i > 0 && v < seen[i - 1]);
    expect(decreases).toEqual([]);
    const behind = reports.find((r) => r.reason?.includes(`behind version ${last} that this api has served`));
    expect(behind).toMatchObject({ name: name(replica), role: 'replica', state: 'stale' });
    expect(behind?.version).toBeLessThan(last);
  });

  it("lag is judged by the heartbeat the replica has applied (repl-admin's row, readable by the api's reader)", async () => {
    const app = await start({ READY_MAX_LAG_SECONDS: '1' });
    await dbs.topology.waitForReplicas();
    let beating = true;
    const heartbeat = (async () => {
      while (beating) {
        await primary.query('INSERT INTO repl_admin.heartbeat (server_id, ts_ms) VALUES (@@server_id, ?) ON DUPLICATE KEY UPDATE ts_ms = GREATEST(ts_ms, VALUES(ts_ms))', [Date.now()]);
        await sleep(100);
      }
    })();
    try {
      await eventually(async () => (await detail(app)).databases[0].lagSeconds !== undefined, 5000, 'a heartbeat lag to be reported');
      expect((await detail(app)).databases[0]).toMatchObject({ state: 'healthy', role: 'replica' });
      expect((await detail(app)).databases[0].lagSeconds).toBeLessThan(1);

      await setDelay(3);
      await eventually(async () => (await detail(app)).databases[0].state === 'stale', 10_000, 'the delayed replica to be passed over');
      const stale = (await detail(app)).databases[0];
      expect(stale.reason).toMatch(/applied heartbeat is [\d.]+ s behind the primary's \(bound 1 s\)/);
      expect(stale.lagSeconds).toBeGreaterThan(1);
      expect((await detail(app)).active).toBe(name(primary));
      expect((await ready(app)).code).toBe(200);

      await setDelay(0);
      await eventually(async () => (await detail(app)).active === name(replica), 10_000, 'reads to return to the replica');
    } finally {
      beating = false;
      await heartbeat;
    }
  });

  it('writes never make the api unready: a version served just after the primary was last checked is not a restore', async () => {
    // A primary check every 5 s and a version check every 20 ms: each write is served from the replica long before the primary is checked again.
    const app = await start({ DB_CHECK_INTERVAL_MS: '5000', DB_VERSION_INTERVAL_MS: '20' });
    await eventually(async () => (await ready(app)).code === 200, 5000, 'the api to be ready');
    let polling = true;
    const unready: string[] = [];
    const poller = (async () => {
      for (let i = 0; i < 2000 && polling; i++) {
        const { code, body } = await ready(app);
        if (code !== 200) unready.push(body.checks[0].error ?? String(code));
        await sleep(10);
      }
    })();
    try {
      for (let i = 0; i < 5; i++) {
        const version = await put(app, `write ${i}`);
        await eventually(async () => (await servedVersion(app)) === version, 5000, `v${version} served`);
        await sleep(100);
      }
    } finally {
      polling = false;
      await poller;
    }
    expect(unready).toEqual([]);
  });

  it("the primary restored from a backup (its version goes down): ready says so and what to do; served again once its version is past what was served", async () => {
    const app = await start();
    let served = 0;
    for (let i = 0; i < 3; i++) served = await put(app, `before the restore ${i}`);
    await dbs.topology.waitForReplicas();
    await eventually(async () => (await servedVersion(app)) === served && (await detail(app)).active === name(replica), 5000, `v${served} from the replica`);

    // What a restore from an older backup looks like to the api (replicated to the replica too).
    await primary.query('UPDATE vita.resume_state SET version = 1 WHERE id = 1');
    await primary.query("UPDATE vita.resume_basics SET label = 'restored'");
    const restoreSaid = new RegExp(`^the primary is at version \\d+, below version ${served} that this api has served: likely restored from a backup`);
    await eventually(async () => (await ready(app)).code === 503, 5000, 'ready to say the restore');
    const { body } = await ready(app);
    expect(body.checks[0].error).toMatch(restoreSaid);
    expect(body.checks[0].error).toContain(`UPDATE vita.resume_state SET version = ${served + 1}, updated_at = UTC_TIMESTAMP(3) WHERE id = 1`);
    expect(body.checks[0].detail.primary).toMatchObject({ name: name(primary), state: 'stale', version: 1, reason: expect.stringMatching(restoreSaid) });
    expect(await servedVersion(app)).toBe(served);

    // A write lands on the restored primary (version 2) but is not served over the version already served.
    expect(await put(app, 'written after the restore')).toBe(2);
    await sleep(600);
    expect(await servedVersion(app)).toBe(served);
    expect((await ready(app)).body.checks[0].error).toMatch(/^the primary is at version 2, below/);

    // The operator's one statement: what the primary holds is served from then on, without a restart.
    await primary.query('UPDATE vita.resume_state SET version = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = 1', [served + 1]);
    await eventually(async () => (await servedVersion(app)) === served + 1, 5000, `v${served + 1} served`);
    const res = await app.inject({ method: 'GET', url: '/api/v1/resume' });
    expect(res.json()).toMatchObject({ basics: { label: 'written after the restore' } });
    await eventually(async () => (await ready(app)).code === 200 && (await detail(app)).active === name(replica), 5000, 'ready again, from the replica');
    const next = await put(app, 'after the raise');
    expect(next).toBe(served + 2);
    await eventually(async () => (await servedVersion(app)) === next, 5000, `v${next} served`);
  });

  it('a configured replica with no replication at all (STOP REPLICA; RESET REPLICA ALL) is not served as current', async () => {
    const app = await start();
    const before = await put(app, 'before the reset');
    await dbs.topology.waitForReplicas();
    await eventually(async () => (await servedVersion(app)) === before && (await detail(app)).active === name(replica), 5000, 'reads from the replica');

    await replica.query('STOP REPLICA');
    await replica.query('RESET REPLICA ALL');
    const after = await put(app, 'after the reset');
    await eventually(async () => (await servedVersion(app)) === after, 5000, `reads to answer v${after}`);
    const res = await app.inject({ method: 'GET', url: '/api/v1/resume' });
    expect(res.json()).toMatchObject({ basics: { label: 'after the reset' } });

    // A judgement made between the STOP and the RESET says the thread is stopped; the next one sees no replication at all.
    await eventually(async () => /SHOW REPLICA STATUS is empty/.test((await detail(app)).databases?.[0]?.reason ?? ''), 5000, 'the replica judged without replication');
    const { code, body } = await ready(app);
    expect(code).toBe(200);
    const [first, second] = body.checks[0].detail.databases;
    expect(body.checks[0].detail.active).toBe(name(primary));
    expect(first).toMatchObject({ name: name(replica), role: 'replica', state: 'stale', reason: expect.stringMatching(/^not replicating: .*SHOW REPLICA STATUS is empty/) });
    expect(second).toMatchObject({ name: name(primary), role: 'primary', state: 'healthy' });
  });

});
