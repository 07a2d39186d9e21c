import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { apiEnv, ApiDatabases, eventually, startApi, startApiDatabases } from '../../test/api-stack';

describe('the topology (site_nodes) on a real primary and replica', () => {
  let dbs: ApiDatabases;
  let app: NestFastifyApplication;
  const node = { address: '10.77.0.11', dbPort: 3306, peerUrl: 'https://10.77.0.11:8443', state: 'active' };

  const put = (name: string, body: object, token = dbs.adminToken) =>
    app.inject({ method: 'PUT', url: `/api/v1/sites/nodes/${name}`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const list = async () => (await app.inject({ method: 'GET', url: '/api/v1/sites' })).json().nodes as { name: string; state: string }[];
  const peers = async () => (await app.inject({ method: 'GET', url: '/api/v1/sites/peers' })).json();
  const rowsOnReplica = async () => dbs.topology.replicas[0].query<{ name: string }[]>('SELECT name FROM vita.site_nodes ORDER BY name');

  beforeAll(async () => {
    dbs = await startApiDatabases(1);
    app = await startApi(apiEnv(dbs));
  });
  afterAll(async () => {
    await app?.close();
    await dbs?.topology.close();
  });

  it('a node registered through the api is written on the primary, replicated, and listed from the replica', async () => {
    expect(await list()).toEqual([]);
    const res = await put('node-a', node);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'node-a', ...node });
    expect(await put('node-b', { ...node, address: '10.77.0.12', peerUrl: 'https://10.77.0.12:8443', state: 'joining' })).toHaveProperty('statusCode', 200);
    await dbs.topology.waitForReplicas();
    expect(await rowsOnReplica()).toEqual([{ name: 'node-a' }, { name: 'node-b' }]);
    await eventually(async () => (await list()).length === 2, 5000, 'both nodes listed');
    expect((await list()).map((n) => [n.name, n.state])).toEqual([['node-a', 'active'], ['node-b', 'joining']]);
    // Only active nodes are anyone's backup.
    expect(await peers()).toEqual({ peers: [{ name: 'node-a', url: 'https://10.77.0.11:8443' }] });
  });

  it('re-registering replaces the row; removing it takes the node out of every list', async () => {
    expect((await put('node-b', { ...node, address: '10.77.0.12', peerUrl: 'https://10.77.0.12:8443' })).statusCode).toBe(200);
    await dbs.topology.waitForReplicas();
    await eventually(async () => (await peers()).peers.length === 2, 5000, 'node-b active');
    const del = await app.inject({ method: 'DELETE', url: '/api/v1/sites/nodes/node-a', headers: { authorization: `Bearer ${dbs.adminToken}` } });
    expect(del.statusCode).toBe(204);
    await dbs.topology.waitForReplicas();
    await eventually(async () => (await list()).map((n) => n.name).join() === 'node-b', 5000, 'node-a gone');
  });

  it.each([
    [{ ...node, peerUrl: 'http://10.77.0.11:8443' }, /peerUrl must be https:\/\/host:port, the port from 1 to 65535/],
    [{ ...node, peerUrl: 'https://10.77.0.11:99999' }, /peerUrl must be https:\/\/host:port/],
    [{ ...node, dbPort: 70000 }, /dbPort must not be greater than 65535/],
    [{ ...node, state: 'gone' }, /state must be one of the following values/],
    [{ ...node, address: 'a b' }, /address must be an IP address or a DNS name/],
    [{ ...node, extra: 1 }, /property extra should not exist/],
  ])('refuses a bad registration with the field at fault (%#), writing nothing', async (body, message) => {
    const before = await dbs.topology.primary.query<unknown[]>('SELECT * FROM vita.site_nodes');
    const res = await put('node-c', body);
    expect(res.statusCode).toBe(400);
    expect(JSON.stringify(res.json().message)).toMatch(message);
    expect(await dbs.topology.primary.query<unknown[]>('SELECT * FROM vita.site_nodes')).toEqual(before);
  });

  it('needs the admin token to change the topology, and a node name that is a DNS label', async () => {
    expect((await put('node-c', node, 'wrong-token-wrong-token')).statusCode).toBe(403);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/sites/nodes/node-b' })).statusCode).toBe(401);
    const bad = await put('Node_C', node);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/node name must be a DNS label/);
  });
});
