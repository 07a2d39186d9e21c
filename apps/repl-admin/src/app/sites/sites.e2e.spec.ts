import { type ReplAdminHarness, startReplAdmin } from '../../test/repl-admin';

/** The topology table decides which content-node replicas repl-admin watches, without a restart. */
describe('repl-admin following the topology (site_nodes) on real servers', () => {
  let h: ReplAdminHarness;
  const names = (t: { replicas: { name: string }[] }) => t.replicas.map((r) => r.name).join(',');

  beforeAll(async () => {
    // Only replica1 is configured; replica2 becomes known through the topology.
    h = await startReplAdmin((at) => ({ REPL_SITES_INTERVAL_MS: '200', REPL_SERVERS: `primary=${at.primary},replica1=${at.replica1}@node-a` }));
  });
  afterAll(() => h?.close());

  it('watches a node as soon as it is in the table, and stops when it leaves it', async () => {
    expect(names(await h.topology())).toBe('replica1');
    const replica2 = h.t.replicas[1];
    await h.t.primary.query('CREATE TABLE vita.site_nodes (name VARCHAR(63) NOT NULL PRIMARY KEY, address VARCHAR(253) NOT NULL, db_port SMALLINT UNSIGNED NOT NULL)');
    await h.t.primary.query('INSERT INTO vita.site_nodes VALUES (?, ?, ?)', ['node-b', '127.0.0.1', replica2.port]);
    const t = await h.until('node-b watched', (x) => x.replicas.find((r) => r.name === 'node-b' && r.state === 'OK'), 10_000);
    expect(t).toMatchObject({ node: 'node-b', ioThread: 'Yes', sqlThread: 'Yes' });
    // A node that is a configured server already (same address) is not watched twice.
    await h.t.primary.query('INSERT INTO vita.site_nodes VALUES (?, ?, ?)', ['node-a', '127.0.0.1', h.t.replicas[0].port]);
    await h.t.primary.query('DELETE FROM vita.site_nodes WHERE name = ?', ['node-b']);
    await h.until('node-b no longer watched', (x) => names(x) === 'replica1', 10_000);
  });
});
