import type { DriftReportDto } from '@vita/contracts';
import { type MariaServer, sleep, waitFor } from '@vita/mariadb';
import { AlertService } from '../alerts/alert.service';
import { AuditService } from '../audit/audit.service';
import { type ReplAdminHarness, startReplAdmin, withoutBinlog } from '../../test/repl-admin';

/** FLUSH BINARY LOGS, then PURGE up to the new file; retried (bounded) until the binlog checkpoint lets it go. */
async function purgeAllButNewest(primary: MariaServer): Promise<void> {
  await primary.query('FLUSH BINARY LOGS');
  const logs = await primary.query<{ Log_name: string }[]>('SHOW BINARY LOGS');
  const newest = logs[logs.length - 1].Log_name;
  await waitFor(
    async () => {
      await primary.query(`PURGE BINARY LOGS TO '${newest}'`);
      return (await primary.query<{ Log_name: string }[]>('SHOW BINARY LOGS'))[0].Log_name === newest || undefined;
    },
    15_000,
    () => new Error(`binlogs before ${newest} were never purged`),
    200,
  );
}

const count = async (h: ReplAdminHarness, i: number, sql: string) => (await h.t.replicas[i].query<{ n: number }[]>(sql))[0];

/** Problems that wait for a person, and the rebuild that fixes them without hand work. */
describe('repl-admin: data errors, purged binlogs, divergence, rebuild and drift', () => {
  let h: ReplAdminHarness;
  const rebuild = (name: string, reason: string) => h.post(`/api/v1/replicas/${name}/actions/rebuild`, { reason });
  const drift = async (name: string) => {
    const res = await h.post(`/api/v1/replicas/${name}/drift`);
    expect(res.status).toBe(200);
    return res.body as unknown as DriftReportDto;
  };

  beforeAll(async () => {
    h = await startReplAdmin();
  });
  afterAll(() => h?.close());

  it('duplicate key: SQL_ERROR 1062, nothing skipped, alert sent once; rebuild: OK and the drift check finds no difference', async () => {
    const [replica1] = h.t.replicas;
    await withoutBinlog(replica1, "INSERT INTO vita.probe VALUES (42, 'written on the replica')");
    const before = (await h.replica('replica1')).gtid.slave;
    await h.t.primary.query("INSERT INTO vita.probe VALUES (42, 'written on the primary')");
    const broken = await h.until('replica1 SQL_ERROR', (t) => t.replicas[0].state === 'SQL_ERROR' && t.replicas[0]);
    expect(broken.error).toMatchObject({ thread: 'sql', errno: 1062 });
    expect(broken.cause).toMatch(/already exists on this replica/);
    expect(broken.nextStep).toMatch(/do not skip.*rebuild/);
    await sleep(1500); // several checks: still nothing done, nothing skipped, one alert
    const still = await h.replica('replica1');
    expect(still).toMatchObject({ state: 'SQL_ERROR', gtid: { slave: before } });
    expect(await count(h, 0, "SELECT message AS n FROM vita.probe WHERE id = 42")).toEqual({ n: 'written on the replica' });
    expect(await h.autoActions('replica1')).toEqual([]);
    await h.app.get(AlertService).settled();
    expect(h.alerts.filter((a) => a.server === 'replica1')).toEqual([expect.objectContaining({ event: 'problem', state: 'SQL_ERROR', errno: 1062, nextStep: expect.stringMatching(/rebuild/) })]);
    expect((await h.replica('replica2')).state).toBe('OK');

    const res = await rebuild('replica1', 'duplicate key 42 after a write on the replica');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'done', action: 'rebuild', mode: 'manual', reason: 'duplicate key 42 after a write on the replica' });
    expect(res.body.statements).toEqual(expect.arrayContaining(['STOP REPLICA', 'RESET REPLICA ALL', 'SET SESSION sql_log_bin = 0', 'RESET MASTER', 'START REPLICA']));
    expect(res.body.statements.find((s) => s.startsWith('CHANGE MASTER'))).toMatch(/MASTER_USER='repl_rebuild', MASTER_PASSWORD='<redacted>'.*MASTER_USE_GTID=slave_pos/);
    expect(res.body.statements.find((s) => s.startsWith('SET GLOBAL gtid_slave_pos'))).toMatch(/^SET GLOBAL gtid_slave_pos = '0-1-\d+'$/);
    await h.until('replica1 OK', (t) => t.replicas[0].state === 'OK');
    expect(await count(h, 0, "SELECT message AS n FROM vita.probe WHERE id = 42")).toEqual({ n: 'written on the primary' });
    const report = await drift('replica1');
    expect(report).toMatchObject({ replica: 'replica1', ok: true, differences: [] });
    expect(report.tables.map((t) => t.table)).toEqual(['probe', 'resume_basics', 'schema_migrations']);
    await waitFor(() => h.alerts.some((a) => a.server === 'replica1' && a.event === 'resolved') || undefined, 5000, () => new Error('no resolved alert'));
    expect(h.alerts.filter((a) => a.server === 'replica1').map((a) => [a.event, a.state])).toEqual([['problem', 'SQL_ERROR'], ['resolved', 'SQL_ERROR']]);
    for (const s of h.secrets) expect(JSON.stringify([res.body, report, h.alerts])).not.toContain(s);
  });

  it('binlogs purged past a stopped replica: warned before restart, IO_ERROR 1236 after; rebuild fixes it', async () => {
    const [, replica2] = h.t.replicas;
    await replica2.query('STOP REPLICA');
    await h.until('replica2 STOPPED', (t) => t.replicas[1].state === 'STOPPED');
    await h.t.primary.query("INSERT INTO vita.probe VALUES (50, 'while replica2 was stopped')");
    await purgeAllButNewest(h.t.primary);
    const warned = await h.until('replica2 warned', (t) => t.replicas[1].warnings.find((w) => w.code === 'BINLOG_PURGED') && t.replicas[1]);
    expect(warned.state).toBe('STOPPED');
    expect(warned.nextStep).toMatch(/do not restart it.*1236/);
    const refused = await h.post('/api/v1/replicas/replica2/actions/restart', { reason: 'try to restart it' });
    expect(refused.status).toBe(409);
    expect(refused.body.preconditions).toEqual(expect.arrayContaining([expect.objectContaining({ check: "position still in the primary's binlogs", ok: false })]));

    await replica2.query('START REPLICA'); // what the old guide said to do
    const failed = await h.until('replica2 IO_ERROR', (t) => t.replicas[1].state === 'IO_ERROR' && t.replicas[1]);
    expect(failed.error).toMatchObject({ thread: 'io', errno: 1236 });
    expect(failed.nextStep).toMatch(/rebuild/);
    expect(await h.autoActions('replica2')).toEqual([]);

    expect((await rebuild('replica2', 'position purged from the primary')).body).toMatchObject({ outcome: 'done' });
    await h.until('replica2 OK', (t) => t.replicas[1].state === 'OK' && t.replicas[1].warnings.length === 0);
    expect(await count(h, 1, 'SELECT COUNT(*) AS n FROM vita.probe WHERE id = 50')).toEqual({ n: 1 });
    expect(await drift('replica2')).toMatchObject({ ok: true });
  });

  it('errant transaction on a replica: DIVERGED (and a rebuild brings it back)', async () => {
    const [replica1] = h.t.replicas;
    await replica1.query("INSERT INTO vita.probe VALUES (60, 'errant')"); // root bypasses read_only; binlogged with replica1's server id
    const diverged = await h.until('replica1 DIVERGED', (t) => t.replicas[0].state === 'DIVERGED' && t.replicas[0]);
    expect(diverged.cause).toMatch(/transactions the primary never had \(0-2-\d+\)/);
    expect(diverged.warnings).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'ERRANT_TRANSACTION' })]));
    // Its SQL thread stops at the primary's next GTID (gtid_strict_mode): no drift check until it is rebuilt.
    expect((await h.post('/api/v1/replicas/replica1/drift')).status).toBe(409);
    expect((await h.post('/api/v1/replicas/replica1/actions/restart', { reason: 'try' })).status).toBe(409);

    expect((await rebuild('replica1', 'errant transaction 60')).body).toMatchObject({ outcome: 'done' });
    await h.until('replica1 OK', (t) => t.replicas[0].state === 'OK' && t.replicas[0].warnings.length === 0);
    expect(await count(h, 0, 'SELECT COUNT(*) AS n FROM vita.probe WHERE id = 60')).toEqual({ n: 0 });
    expect(await drift('replica1')).toMatchObject({ ok: true });
  });

  it('drift check: a row changed on a replica without a trace is reported by table', async () => {
    const [, replica2] = h.t.replicas;
    await withoutBinlog(replica2, "UPDATE vita.resume_basics SET name = 'Ada King' WHERE seq = 0");
    const report = await drift('replica2');
    expect(report).toMatchObject({ ok: false, differences: ['resume_basics'] });
    expect(report.tables.find((t) => t.table === 'probe')).toMatchObject({ match: true });
    expect(report.gtidPosition).toMatch(/^0-1-\d+$/);
    const audit = h.app.get(AuditService).list(1, 'replica2');
    expect(audit[0]).toMatchObject({ action: 'drift', outcome: 'done', message: '1 tables differ: resume_basics' });
    expect(audit[0].statements[0]).toMatch(/^LOCK TABLES `vita`.`probe` READ, /);
  });
});
