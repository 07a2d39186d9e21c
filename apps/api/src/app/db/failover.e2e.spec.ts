import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { MariaServer } from '@vita/mariadb';
import { sampleResume } from '@vita/testing';
import { apiEnv, ApiDatabases, eventually, startApi, startApiDatabases } from '../../test/api-stack';

interface Ready {
  status: string;
  checks: { error?: string; detail: { active: string | null; databases: { name: string; role: string; state: string; version?: number; reason?: string }[] } }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('read failover and an unreachable primary', () => {
  let dbs: ApiDatabases;
  let app: NestFastifyApplication;
  let local: MariaServer;
  let other: MariaServer;
  const sample = sampleResume();
  const name = (s: MariaServer) => `${s.host}:${s.port}`;

  const ready = async (on = app): Promise<{ code: number; body: Ready }> => {
    const res = await on.inject({ method: 'GET', url: '/health/ready' });
    return { code: res.statusCode, body: res.json() };
  };
  const active = async () => (await ready()).body.checks[0].detail.active;
  const getResume = () => app.inject({ method: 'GET', url: '/api/v1/resume' });
  const put = (doc: object) =>
    app.inject({
      method: 'PUT',
      url: '/api/v1/resume',
      headers: { authorization: `Bearer ${dbs.adminToken}`, 'content-type': 'application/json' },
      payload: JSON.stringify(doc),
    });

  beforeAll(async () => {
    dbs = await startApiDatabases(2);
    [local, other] = dbs.topology.replicas;
    app = await startApi(apiEnv(dbs));
    expect((await put(sample)).statusCode).toBe(200);
    await dbs.topology.waitForReplicas();
    await eventually(async () => (await getResume()).headers.etag === '"v1"', 5000, 'version 1');
  });
  afterAll(async () => {
    await app?.close();
    await dbs?.topology.close();
  });

  it('reads come from the local replica while it is healthy; every database is listed with its configured role', async () => {
    expect(await active()).toBe(name(local));
    const { databases } = (await ready()).body.checks[0].detail;
    expect(databases.map((d) => [d.name, d.role, d.state])).toEqual([
      [name(local), 'replica', 'healthy'],
      [name(other), 'replica', 'healthy'],
      [name(dbs.topology.primary), 'primary', 'healthy'],
    ]);
    const probe = await app.inject({ method: 'GET', url: '/api/v1/testdb' });
    expect(probe.json()).toMatchObject({ status: 'ok', database: name(local) });
  });

  it('local replica killed: GETs keep answering 200, from the next read database; ready says so; back when it returns', async () => {
    await local.kill();
    for (let i = 0; i < 20; i++) {
      const res = await app.inject({ method: 'GET', url: i % 2 ? '/api/v1/resume' : '/api/v1/testdb' });
      expect(res.statusCode).toBe(200);
    }
    await eventually(async () => (await active()) === name(other), 5000, 'reads to move to the second replica');
    const { code, body } = await ready();
    expect(code).toBe(200);
    expect(body.checks[0].detail.databases[0]).toMatchObject({ name: name(local), state: 'down' });
    expect((await getResume()).json()).toEqual(sample);

    await local.start();
    await eventually(async () => (await active()) === name(local), 15_000, 'reads to return to the local replica');
  });

  it('a replica that stops replicating is left for the next one, and used again once it replicates', async () => {
    await local.query('STOP SLAVE SQL_THREAD');
    await eventually(async () => (await active()) === name(other), 5000, 'reads to leave the stopped replica');
    const { body } = await ready();
    expect(body.checks[0].detail.databases[0]).toMatchObject({ state: 'stale', reason: expect.stringContaining('not replicating: SQL thread No') });
    await local.query('START SLAVE SQL_THREAD');
    await eventually(async () => (await active()) === name(local), 5000, 'reads to return to the local replica');
  });

  it('primary stopped: PUT answers 503 with a clear message, GET keeps answering from the replica', async () => {
    await dbs.topology.primary.stop();
    try {
      const res = await put({ ...sample, basics: { name: 'Nobody' } });
      expect(res.statusCode).toBe(503);
      expect(res.json().message).toMatch(/primary database is unreachable/);
      const got = await getResume();
      expect(got.statusCode).toBe(200);
      expect(got.json()).toEqual(sample);
      await eventually(async () => (await ready()).body.checks[0].detail.databases[0].state === 'reconnecting', 10_000, 'replica to notice');
      expect((await ready()).code).toBe(200);
      expect(await active()).toBe(name(local));
    } finally {
      await dbs.topology.primary.start();
    }
    await eventually(async () => (await put(sample)).statusCode === 200, 15_000, 'writes to work again');
  });

  it('primary down: a newly started api judges the replicas against each other, passing over one far behind (MASTER_DELAY)', async () => {
    const primary = dbs.topology.primary;
    const fresh: NestFastifyApplication[] = [];
    let beating = true;
    const heartbeat = (async () => {
      while (beating) {
        await primary
          .query('INSERT INTO repl_admin.heartbeat (server_id, ts_ms) VALUES (@@server_id, ?) ON DUPLICATE KEY UPDATE ts_ms = GREATEST(ts_ms, VALUES(ts_ms))', [Date.now()])
          .catch(() => undefined);
        await sleep(100);
      }
    })();
    const versionOn = async (s: MariaServer) => Number(((await s.query('SELECT version FROM vita.resume_state')) as { version: unknown }[])[0].version);
    try {
      await dbs.topology.waitForReplicas();
      await sleep(500);
      await local.query('STOP REPLICA');
      await local.query('CHANGE MASTER TO MASTER_DELAY = 3600');
      await local.query('START REPLICA');
      let last = 0;
      for (let i = 0; i < 3; i++) {
        const res = await put({ ...sample, basics: { ...sample.basics, label: `while the local replica is an hour behind ${i}` } });
        expect(res.statusCode).toBe(200);
        last = (res.json() as { version: number }).version;
      }
      await eventually(async () => (await versionOn(other)) === last, 10_000, `the second replica to have v${last}`);
      await sleep(3000); // the local replica's applied heartbeat falls more than the bound behind the other's
      expect(await versionOn(local)).toBeLessThan(last);

      await primary.stop();
      beating = false;
      await heartbeat;

      // With heartbeats: the local replica is seconds behind the other one's; without (no heartbeat schema): behind its version.
      const variants: Record<string, string>[] = [{ READY_MAX_LAG_SECONDS: '2' }, { READY_MAX_LAG_SECONDS: '2', DB_HEARTBEAT_SCHEMA: 'no_heartbeat_here' }];
      for (const overrides of variants) {
        const started = await startApi(apiEnv(dbs, overrides));
        fresh.push(started);
        await eventually(async () => (await ready(started)).body.checks[0].detail.active === name(other), 10_000, 'a fresh api to read from the current replica');
        const { code, body } = await ready(started);
        expect(code).toBe(200);
        const [first, second] = body.checks[0].detail.databases;
        expect(first).toMatchObject({ name: name(local), state: 'stale', reason: expect.stringMatching(/behind .*the newest known while the primary is unreachable/) });
        expect(second).toMatchObject({ name: name(other), state: 'reconnecting', version: last });
        const got = await started.inject({ method: 'GET', url: '/api/v1/resume' });
        expect(got.headers.etag).toBe(`"v${last}"`);
      }
    } finally {
      beating = false;
      await heartbeat;
      await Promise.all(fresh.map((a) => a.close()));
      await primary.start();
      await local.query('STOP REPLICA');
      await local.query('CHANGE MASTER TO MASTER_DELAY = 0');
      await local.query('START REPLICA');
    }
    await dbs.topology.waitForReplicas();
  });
});
