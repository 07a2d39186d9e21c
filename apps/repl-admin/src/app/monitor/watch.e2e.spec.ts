import { sleep } from '@vita/mariadb';
import { createConnection } from 'mariadb';
import { runCli } from '../cli/cli';
import { type ReplAdminHarness, startReplAdmin } from '../../test/repl-admin';

/** Watching: states, true lag by heartbeat, and the one repair that needs no person. */
describe('repl-admin watching a real primary and two replicas', () => {
  let h: ReplAdminHarness;

  beforeAll(async () => {
    h = await startReplAdmin();
  });
  afterAll(() => h?.close());

  it('healthy topology: every replica OK with a small heartbeat lag, GTID positions side by side, no warning', async () => {
    await h.t.primary.query("INSERT INTO vita.probe VALUES (2, 'healthy')");
    const t = await h.until('replicas caught up', (x) => x.replicas.every((r) => r.gtid.slave === x.primary.gtid.binlog && r.gtid.io === r.gtid.slave) && x);
    expect(t.primary).toMatchObject({ name: 'primary', reachable: true, readOnly: false, heartbeat: { error: null } });
    for (const r of t.replicas) {
      expect(r).toMatchObject({ state: 'OK', ioThread: 'Yes', sqlThread: 'Yes', error: null, readOnly: true, automation: { enabled: true } });
      expect(r.heartbeatLagSeconds).toBeLessThan(2);
      expect(r.secondsBehindMaster).toBe(0);
      expect(r.gtid.io).toBe(t.primary.gtid.binlog);
    }
    expect(t.replicas.map((r) => r.node)).toEqual(['node-a', 'node-b']);
    expect(t.warnings).toEqual([]);
    expect(await h.autoActions()).toEqual([]);
    expect(h.alerts).toEqual([]);
  });

  it('serves the status page, metrics, health, and the CLI reads the same', async () => {
    const page = await fetch(`${h.url}/`).then((r) => r.text());
    expect(page).toContain('replica1');
    expect(page).toMatch(/class="badge ok">OK</);
    const metrics = await fetch(`${h.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/repl_admin_replica_heartbeat_lag_seconds\{replica="replica1",node="node-a"\} \d/);
    expect(metrics).toMatch(/repl_admin_replica_state\{replica="replica2",node="node-b",state="OK"\} 1/);
    expect(metrics).toMatch(/repl_admin_replica_thread_running\{replica="replica1",node="node-a",thread="io"\} 1/);
    expect((await fetch(`${h.url}/health/ready`)).status).toBe(200);
    const out: string[] = [];
    const code = await runCli(['status'], { env: { REPL_ADMIN_URL: h.url }, out: (l) => out.push(l), err: (l) => out.push(l) });
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/^replica1\s+OK\s+lag [\d.]+ s \(Seconds_Behind_Master 0\)\s+IO Yes SQL Yes\s+node node-a$/m);
    for (const s of h.secrets) expect(page + metrics + out.join('')).not.toContain(s);
  });

  it('configuration lint on real servers: an application account with READ ONLY ADMIN, a replica without gtid_strict_mode', async () => {
    await h.t.primary.query("CREATE USER vita_app@'%' IDENTIFIED BY 'app-password'");
    await h.t.primary.query("GRANT SELECT, INSERT, READ ONLY ADMIN ON *.* TO vita_app@'%'");
    await h.t.replicas[1].query('SET GLOBAL gtid_strict_mode = 0');
    const t = await h.until('lint warnings', (x) => x.warnings.length === 2 && x);
    expect(t.warnings).toEqual([
      { code: 'ACCOUNT_BYPASSES_READ_ONLY', server: 'primary', message: expect.stringMatching(/^account vita_app@% has READ ONLY ADMIN/) },
      { code: 'GTID_STRICT_MODE', server: 'replica2', message: expect.stringMatching(/gtid_strict_mode is OFF/) },
    ]);
    await h.t.primary.query("DROP USER vita_app@'%'");
    await h.t.replicas[1].query('SET GLOBAL gtid_strict_mode = 1');
    await h.until('no warning', (x) => x.warnings.length === 0);
  });

  it('primary killed: replicas IO_CONNECTING and nothing done while it is down; back: replicating again within seconds, without a person', async () => {
    const [, replica2] = h.t.replicas;
    // replica2 retries like a default MariaDB (every 60 s): on its own it would wait up to a minute.
    for (const sql of ['STOP REPLICA', 'CHANGE MASTER TO MASTER_CONNECT_RETRY=60', 'START REPLICA']) await replica2.query(sql);
    await h.until('replica2 OK again', (t) => t.replicas[1].state === 'OK');

    await h.t.primary.kill();
    const down = await h.until('replicas connecting', (t) => !t.primary.reachable && t.replicas.every((r) => r.state === 'IO_CONNECTING') && t);
    expect(down.replicas.map((r) => r.nextStep)).toEqual([expect.stringMatching(/bring the primary back/), expect.stringMatching(/bring the primary back/)]);
    await sleep(3000); // longer than the grace period: still nothing may be done
    expect((await h.topology()).replicas.map((r) => r.state)).toEqual(['IO_CONNECTING', 'IO_CONNECTING']);
    expect(await h.autoActions()).toEqual([]);

    const back = Date.now();
    await h.t.primary.start();
    await h.until('both replicas replicating', (t) => t.replicas.every((r) => r.ioThread === 'Yes' && r.sqlThread === 'Yes'), 15_000);
    const seconds = (Date.now() - back) / 1000;
    process.stdout.write(`replication running on both replicas ${seconds.toFixed(1)} s after the primary came back\n`);
    expect(await h.autoActions('replica2')).toEqual([expect.objectContaining({ action: 'restart-io', outcome: 'done', statements: ['STOP REPLICA IO_THREAD', 'START REPLICA IO_THREAD'] })]);
    await h.t.primary.query("INSERT INTO vita.probe VALUES (3, 'after the outage')");
    await h.until('replicas OK and caught up', (t) => t.replicas.every((r) => r.state === 'OK' && r.gtid.slave === t.primary.gtid.binlog));
    await h.until('the repair judged helpful', (t) => t.replicas[1].automation.enabled && t);
    expect(h.alerts).toEqual(expect.arrayContaining([
      expect.objectContaining({ event: 'problem', state: 'PRIMARY_UNREACHABLE' }),
      expect.objectContaining({ event: 'resolved', state: 'PRIMARY_UNREACHABLE' }),
    ]));
    for (const sql of ['STOP REPLICA', 'CHANGE MASTER TO MASTER_CONNECT_RETRY=1', 'START REPLICA']) await replica2.query(sql);
  });

  it('primary paused (SIGSTOP): LAGGING by heartbeat while Seconds_Behind_Master says 0; resumed: OK', async () => {
    // MariaDB's default slave_net_timeout (60 s): the replicas notice nothing for a minute.
    const netTimeout = async (seconds: number) => {
      for (const r of h.t.replicas) for (const sql of [`SET GLOBAL slave_net_timeout = ${seconds}`, 'STOP REPLICA', 'START REPLICA']) await r.query(sql);
    };
    await netTimeout(60);
    await h.until('all OK', (t) => t.replicas.every((r) => r.state === 'OK'));
    const before = (await h.autoActions()).length;
    h.t.primary.pause();
    try {
      const lagging = await h.until('both LAGGING', (t) => t.replicas.every((r) => r.state === 'LAGGING') && t, 10_000);
      for (const r of lagging.replicas) {
        expect(r.heartbeatLagSeconds).toBeGreaterThan(2);
        expect(r.secondsBehindMaster).toBe(0);
        expect(r.cause).toMatch(/Seconds_Behind_Master says 0 s/);
      }
      expect(lagging.primary.reachable).toBe(false);
    } finally {
      h.t.primary.resume();
    }
    await h.until('all OK after resume', (t) => t.replicas.every((r) => r.state === 'OK' && (r.heartbeatLagSeconds ?? 99) < 2), 20_000);
    expect((await h.autoActions()).length).toBe(before);
    await netTimeout(5);
  });

  it('a long lock on a replica: LAGGING by heartbeat; when the SQL thread times out (1205) it is restarted once, by itself', async () => {
    const [replica1] = h.t.replicas;
    for (const sql of ['SET GLOBAL innodb_lock_wait_timeout = 6', 'SET GLOBAL slave_transaction_retries = 0', 'STOP REPLICA SQL_THREAD', 'START REPLICA SQL_THREAD']) await replica1.query(sql);
    const conn = await createConnection({ socketPath: replica1.socketPath, user: 'root' });
    try {
      await conn.query('BEGIN');
      await conn.query('SELECT * FROM repl_admin.heartbeat FOR UPDATE');
      const lagging = await h.until('replica1 LAGGING', (t) => t.replicas[0].state === 'LAGGING' && t.replicas[0], 10_000);
      expect(lagging.heartbeatLagSeconds).toBeGreaterThan(2);
      expect(lagging.sqlThread).toBe('Yes');
      expect((await h.replica('replica2')).state).toBe('OK');
      const stopped = await h.until('replica1 SQL_ERROR 1205', (t) => t.replicas[0].state === 'SQL_ERROR' && t.replicas[0], 20_000);
      expect(stopped.error).toMatchObject({ thread: 'sql', errno: 1205 });
      expect(stopped.nextStep).toMatch(/restarts the SQL thread once/);
    } finally {
      await conn.query('ROLLBACK');
      await conn.end();
    }
    await h.until('replica1 OK', (t) => t.replicas[0].state === 'OK', 15_000);
    expect(await h.autoActions('replica1')).toEqual([expect.objectContaining({ action: 'restart-sql', outcome: 'done', statements: ['START REPLICA SQL_THREAD'] })]);
    for (const sql of ['SET GLOBAL innodb_lock_wait_timeout = 50', 'SET GLOBAL slave_transaction_retries = 10']) await replica1.query(sql);
  });
});
