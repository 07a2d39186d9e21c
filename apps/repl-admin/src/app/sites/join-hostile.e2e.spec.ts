import type { JoinBundle } from '@vita/contracts';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { type JoinWarehouse, type ReplAdminHarness, startJoinWarehouse, withoutBinlog } from '../../test/repl-admin';
import { NODE_SECRETS } from './join.controller';

/** The join endpoints as a holder of the join secret (or an unlucky operator) can use them. */
describe('join endpoints under hostile or mistaken requests (real servers)', () => {
  let w: JoinWarehouse;
  let h: ReplAdminHarness;
  let asJoiner: string;

  beforeAll(async () => {
    w = await startJoinWarehouse([...NODE_SECRETS, 'REPL_ADMIN_TOKEN']);
    h = w.h;
    asJoiner = `Bearer ${w.joinSecret}`;
  });
  afterAll(() => w?.close());

  it('the join secret opens the join endpoints only, not replica actions', async () => {
    const res = await h.post('/api/v1/replicas/replica1/actions/restart', { reason: 'probe', dryRun: true }, asJoiner);
    expect(res.status).toBe(403);
  });

  it('a bad address or the CA\'s own name is a 400 naming the field, not a 500', async () => {
    for (const body of [{ name: 'node-z', address: '1.2.3.999' }, { name: 'node-z', address: 'a..b' }, { name: 'ca', address: '127.0.0.1' }]) {
      const res = await h.post('/api/v1/sites/join', body, asJoiner);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
  });

  it('the bundle carries no password of repl-admin\'s own database accounts', async () => {
    const res = await h.post('/api/v1/sites/join', { name: 'node-p', address: '127.0.0.1' }, asJoiner);
    expect(res.status).toBe(200);
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(h.env['REPL_ADMIN_PASSWORD']);
    expect(text).not.toContain(h.env['REPL_MONITOR_PASSWORD']);
  });

  it('concurrent joins of one name each get a key and the certificate of that key', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => h.post('/api/v1/sites/join', { name: 'node-r', address: '127.0.0.1' }, asJoiner)));
    const pairs = answers.map((a) => {
      if (a.status !== 200) return `status ${a.status}: ${String(a.body['message'])}`;
      const b = a.body as unknown as JoinBundle;
      return new X509Certificate(b.cert).checkPrivateKey(createPrivateKey(b.key)) ? 'matching' : 'mismatched';
    });
    expect(pairs).toEqual(Array(6).fill('matching'));
  });

  it('a join under the name of a node the topology has at another address is refused', async () => {
    await h.t.primary.query('CREATE TABLE IF NOT EXISTS vita.site_nodes (name VARCHAR(63) NOT NULL PRIMARY KEY, address VARCHAR(253) NOT NULL, db_port SMALLINT UNSIGNED NOT NULL)');
    await h.t.primary.query('INSERT INTO vita.site_nodes VALUES (?, ?, ?)', ['node-b', '127.0.0.1', h.t.replicas[1].port]);
    await h.until('node-b watched', (t) => t.replicas.find((r) => r.name === 'node-b' && r.state === 'OK'));
    const res = await h.post('/api/v1/sites/join', { name: 'node-b', address: '127.0.0.9' }, asJoiner);
    expect(res.status).toBe(409);
  });

  it('seeding under the name of a healthy watched replica is refused and leaves it replicating', async () => {
    // A row only that replica has: a rebuild would drop it.
    await withoutBinlog(h.t.replicas[1], "INSERT INTO vita.probe VALUES (42, 'local to node-b')");
    const res = await h.post('/api/v1/sites/join/node-b/seed', { address: '127.0.0.9', dbPort: 3306, tlsCa: '/nonexistent/ca.crt' }, asJoiner);
    const kept = (await h.t.replicas[1].query<{ id: number }[]>('SELECT id FROM vita.probe WHERE id = 42')).length === 1;
    const r = await h.replica('node-b');
    expect({ status: res.status, kept, state: r.state, ioThread: r.ioThread }).toEqual({ status: 409, kept: true, state: 'OK', ioThread: 'Yes' });
  });

  it('seeding under the name of a configured replica is refused too', async () => {
    const res = await h.post('/api/v1/sites/join/replica1/seed', { address: '127.0.0.9', dbPort: 3306, tlsCa: '/nonexistent/ca.crt' }, asJoiner);
    const r = await h.replica('replica1');
    expect({ status: res.status, state: r.state, ioThread: r.ioThread }).toEqual({ status: 409, state: 'OK', ioThread: 'Yes' });
  });
});
