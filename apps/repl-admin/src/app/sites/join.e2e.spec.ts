import type { JoinBundle } from '@vita/contracts';
import { caPaths, matchesPin, caPin } from '@vita/sites';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type JoinWarehouse, type ReplAdminHarness, startJoinWarehouse } from '../../test/repl-admin';
import { NODE_SECRETS } from './join.controller';

/** A content node joining through the warehouse's repl-admin, on real servers (replica2 plays the new node). */
describe('joining a content node (repl-admin on the warehouse)', () => {
  let w: JoinWarehouse;
  let h: ReplAdminHarness;
  let dir: string;
  let joinSecret: string;
  let siteSecrets: Record<string, string>;
  let asJoiner: string;

  beforeAll(async () => {
    w = await startJoinWarehouse([...NODE_SECRETS, 'REPL_ADMIN_TOKEN', 'DB_REPL_PASSWORD']);
    ({ h, dir, joinSecret, siteSecrets } = w);
    asJoiner = `Bearer ${joinSecret}`;
  });
  afterAll(() => w?.close());

  it('hands out the CA (public) for the node to check against its token pin', async () => {
    const res = await fetch(`${h.url}/api/v1/sites/ca`);
    expect(res.status).toBe(200);
    const pem = await res.text();
    expect(pem).toBe(readFileSync(caPaths(join(dir, 'ca')).crt, 'utf8'));
    expect(matchesPin(pem, caPin(pem))).toBe(true);
  });

  it('needs the join secret, not repl-admin\'s admin token, and validates the request', async () => {
    const body = { name: 'node-c', address: '127.0.0.1' };
    expect((await h.post('/api/v1/sites/join', body, null)).status).toBe(401);
    expect((await h.post('/api/v1/sites/join', body)).status).toBe(403);
    const bad = await h.post('/api/v1/sites/join', { name: 'Node C', address: '127.0.0.1' }, asJoiner);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toMatch(/name must be a DNS label/);
  });

  it('gives a node its certificate for its address, the node secrets only, and seeds its replica from a snapshot', async () => {
    const res = await h.post('/api/v1/sites/join', { name: 'node-c', address: '127.0.0.1' }, asJoiner);
    expect(res.status).toBe(200);
    const bundle = res.body as unknown as JoinBundle;
    const cert = new X509Certificate(bundle.cert);
    expect(cert.verify(new X509Certificate(bundle.ca).publicKey)).toBe(true);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(bundle.key).toMatch(/PRIVATE KEY/);
    expect(Object.keys(bundle.secrets).sort()).toEqual([...NODE_SECRETS].sort());
    expect(JSON.stringify(bundle)).not.toContain(siteSecrets['REPL_ADMIN_TOKEN']);
    expect(JSON.stringify(bundle)).not.toContain(joinSecret);

    // The new node: replication forgotten, data gone; it creates repl-admin's accounts from the bundle.
    const node = h.t.replicas[1];
    await node.query('STOP REPLICA');
    await node.query('RESET REPLICA ALL');
    await node.query('SET SESSION sql_log_bin = 0');
    await node.query('DROP DATABASE vita');
    for (const s of bundle.replAccounts) await node.query(s.sql, s.params);
    await h.t.primary.query("INSERT INTO vita.probe VALUES (7, 'before the join')");

    const seeded = await h.post('/api/v1/sites/join/node-c/seed', { address: '127.0.0.1', dbPort: node.port }, asJoiner);
    expect(seeded.status).toBe(200);
    expect(seeded.body).toMatchObject({ action: 'rebuild', replica: 'node-c', outcome: 'done' });
    await h.t.primary.query("INSERT INTO vita.probe VALUES (8, 'after the join')");
    await h.t.waitForReplicas();
    const rows = await node.query<{ id: number }[]>('SELECT id FROM vita.probe WHERE id IN (7, 8) ORDER BY id');
    expect(rows.map((r) => Number(r.id))).toEqual([7, 8]);
    // Not watched until the node registers itself in the topology; then it is.
    expect((await h.topology()).replicas.map((r) => r.name)).toEqual(['replica1']);
    await h.t.primary.query('CREATE TABLE vita.site_nodes (name VARCHAR(63) NOT NULL PRIMARY KEY, address VARCHAR(253) NOT NULL, db_port SMALLINT UNSIGNED NOT NULL)');
    await h.t.primary.query('INSERT INTO vita.site_nodes VALUES (?, ?, ?)', ['node-c', '127.0.0.1', node.port]);
    const watched = await h.until('node-c replicating and watched', (t) => t.replicas.find((r) => r.name === 'node-c' && r.state === 'OK' && r.gtid.slave === t.primary.gtid.binlog));
    expect(watched).toMatchObject({ ioThread: 'Yes', sqlThread: 'Yes' });
  });
});
