import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { apiEnv, ApiDatabases, eventually, startApi, startApiDatabases } from '../../test/api-stack';

/** Another node's replica is read once the topology lists it: after the configured replicas, before the primary. */
describe('read databases follow the topology (site_nodes) on real servers', () => {
  let dbs: ApiDatabases;
  let app: NestFastifyApplication;
  const names = async () => {
    const res = await app.inject({ method: 'GET', url: '/health/ready' });
    const check = (res.json() as { checks: { name: string; detail?: { databases?: { name: string; state: string }[] } }[] }).checks.find((c) => c.name === 'read-database');
    return check?.detail?.databases ?? [];
  };
  const at = (i: number) => `${dbs.topology.replicas[i].host}:${dbs.topology.replicas[i].port}`;
  const primary = () => `${dbs.topology.primary.host}:${dbs.topology.primary.port}`;

  beforeAll(async () => {
    dbs = await startApiDatabases(2);
    // Configured: the first replica and the primary; the second replica is another node's.
    app = await startApi(apiEnv(dbs, { DB_SITES_INTERVAL_MS: '200' }, [dbs.topology.replicas[0], dbs.topology.primary]));
  });
  afterAll(async () => {
    await app?.close();
    await dbs?.topology.close();
  });

  it('adds an active node, checks it like any replica, and drops it when it leaves; configured ones stay', async () => {
    await eventually(async () => (await names()).map((d) => d.name).join() === `${at(0)},${primary()}`, 5000, 'the configured databases');
    const insert = (name: string, i: number, state: string) =>
      dbs.topology.primary.query("INSERT INTO vita.site_nodes VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(3))", [name, dbs.topology.replicas[i].host, dbs.topology.replicas[i].port, 'https://127.0.0.1:8443', state]);
    // A joining node is not read yet; the configured replica listed as a node is not added twice.
    await insert('node-b', 1, 'joining');
    await insert('node-a', 0, 'active');
    await dbs.topology.waitForReplicas();
    await new Promise((r) => setTimeout(r, 800));
    expect((await names()).map((d) => d.name)).toEqual([at(0), primary()]);

    await dbs.topology.primary.query("UPDATE vita.site_nodes SET state = 'active' WHERE name = 'node-b'");
    await eventually(async () => {
      const list = await names();
      return list.map((d) => d.name).join() === `${at(0)},${at(1)},${primary()}` && list[1].state === 'healthy';
    }, 10_000, "node-b's replica read after the configured one, before the primary, and healthy");

    await dbs.topology.primary.query("DELETE FROM vita.site_nodes WHERE name = 'node-b'");
    await eventually(async () => (await names()).map((d) => d.name).join() === `${at(0)},${primary()}`, 10_000, 'node-b dropped');
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
  });
});
