import { REPLICA_ACTIONS } from '@vita/contracts';
import { workspaceRoot } from '@vita/testing';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli/cli';
import { AuditService } from '../audit/audit.service';
import { type ReplAdminHarness, startReplAdmin, withoutBinlog } from '../../test/repl-admin';

type Row = Record<string, unknown>;

/** Manual actions: token, reason and preconditions are required, dry-run changes nothing, everything is audited. */
describe('repl-admin manual actions', () => {
  let h: ReplAdminHarness;
  let dir: string;
  const action = (name: string, kind: string, body: unknown, auth?: string | null) => h.post(`/api/v1/replicas/${name}/actions/${kind}`, body, auth);
  /** What an action could change on a replica: replication settings and threads, read_only, whose GTIDs it binlogs, its data. */
  const fingerprint = async (i: number) => {
    const r = h.t.replicas[i];
    const [status] = await r.query<Row[]>('SHOW REPLICA STATUS');
    const [vars] = await r.query<Row[]>('SELECT @@read_only AS ro, @@gtid_binlog_state AS binlog');
    const probe = await r.query<Row[]>('SELECT id, message FROM vita.probe ORDER BY id');
    // Positions move with every heartbeat; the domain-server pairs in the binlog do not (unless something is written there).
    const writers = String(vars['binlog']).split(',').map((g) => g.split('-').slice(0, 2).join('-'));
    return { ro: vars['ro'], writers, probe, io: status?.['Slave_IO_Running'], sql: status?.['Slave_SQL_Running'], host: status?.['Master_Host'], port: status?.['Master_Port'], user: status?.['Master_User'] };
  };
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const code = await runCli(args, { env: { REPL_ADMIN_URL: h.url, REPL_ADMIN_TOKEN: h.token }, out: (l) => out.push(l), err: (l) => out.push(l) });
    return { code, out: out.join('\n') };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'repl-admin-audit-'));
    // No replication account configured: a rebuild keeps the one each replica has (RESET REPLICA, not ALL).
    h = await startReplAdmin({ REPL_AUDIT_LOG: join(dir, 'audit.jsonl'), REPL_REPLICATION_USER: '', REPL_REPLICATION_PASSWORD: '' });
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(REPLICA_ACTIONS)('%s is refused without a token (401), with a wrong one (403), without a reason (400)', async (kind) => {
    const body = { reason: 'testing the guard', dryRun: true };
    expect((await action('replica1', kind, body, null)).status).toBe(401);
    expect((await action('replica1', kind, body, 'Bearer not-the-admin-token-at-all')).status).toBe(403);
    expect((await action('replica1', kind, body, `Basic ${h.token}`)).status).toBe(401);
    for (const bad of [{ dryRun: true }, { reason: '   ', dryRun: true }, { reason: 42 }, { ...body, surprise: 1 }, undefined]) {
      const res = await action('replica1', kind, bad);
      expect(res.status).toBe(400);
    }
    expect(await h.app.get(AuditService).list()).toEqual([]);
  });

  it('each is refused (409) with a failing precondition, runs nothing, and the refusal is audited', async () => {
    const before = [await fingerprint(0), await fingerprint(1)];
    const replica2 = `127.0.0.1:${h.t.replicas[1].port}`.split(':');
    const cases: [string, string, object, RegExp][] = [
      ['replica1', 'restart', {}, /running and current: nothing to restart/],
      ['replica1', 'repoint', { host: replica2[0], port: Number(replica2[1]) }, /read_only or does not binlog: not a primary/],
      ['replica1', 'read-only', {}, /already ON/],
      ['replica1', 'rebuild', {}, /pass "force": true/],
      ['primary', 'read-only', {}, /is the primary/],
    ];
    for (const [name, kind, extra, why] of cases) {
      const res = await action(name, kind, { reason: `precondition test of ${kind}`, ...extra });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ outcome: 'refused', action: kind, replica: name, reason: `precondition test of ${kind}` });
      expect(res.body.message).toMatch(why);
    }
    expect((await action('nosuch', 'restart', { reason: 'x' })).status).toBe(404);
    expect([await fingerprint(0), await fingerprint(1)]).toEqual(before);
    expect((await h.app.get(AuditService).list()).map((a) => a.outcome)).toEqual(['refused', 'refused', 'refused', 'refused', 'refused']);
  });

  it('dry-run shows the exact statements and changes nothing', async () => {
    await h.t.replicas[0].query('STOP REPLICA');
    await h.t.replicas[1].query('SET GLOBAL read_only = 0');
    // A marker only replica2 has (written without binlog): a rebuild would remove it, a dry run must not.
    await withoutBinlog(h.t.replicas[1], "INSERT INTO vita.probe VALUES (99, 'only on replica2')");
    await h.until('replica1 STOPPED, replica2 warned', (t) => t.replicas[0].state === 'STOPPED' && t.replicas[1].warnings.some((w) => w.code === 'READ_ONLY'));
    const before = [await fingerprint(0), await fingerprint(1)];
    const primaryPort = h.t.primary.port;
    const dry = async (name: string, kind: string, extra: object = {}) => {
      const res = await action(name, kind, { reason: `dry run of ${kind}`, dryRun: true, ...extra });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ outcome: 'dry-run', dryRun: true, action: kind });
      expect(res.body.preconditions.every((p) => p.ok)).toBe(true);
      return res.body.statements;
    };
    expect(await dry('replica1', 'restart')).toEqual(['STOP REPLICA', 'START REPLICA']);
    expect(await dry('replica1', 'repoint')).toEqual(['STOP REPLICA', `CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primaryPort}, MASTER_USE_GTID=slave_pos`, 'START REPLICA']);
    expect(await dry('replica2', 'read-only')).toEqual(['SET GLOBAL read_only = ON']);
    const rebuild = await dry('replica2', 'rebuild', { force: true });
    expect(rebuild).toEqual(expect.arrayContaining(['STOP REPLICA', 'RESET REPLICA', 'SET SESSION sql_log_bin = 0', 'DROP TABLE IF EXISTS `vita`.`probe`', 'RESET MASTER', "SET GLOBAL gtid_slave_pos = '<GTID position of the snapshot>'", 'START REPLICA']));
    expect(rebuild.find((s) => s.startsWith('CHANGE MASTER'))).toBe(`CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=${primaryPort}, MASTER_CONNECT_RETRY=1, MASTER_USE_GTID=slave_pos`);
    const viaCli = await cli('restart', 'replica1', '--reason', 'from the shell', '--dry-run');
    expect(viaCli).toMatchObject({ code: 0, out: expect.stringContaining('dry-run') });
    expect(viaCli.out).toContain('  STOP REPLICA\n  START REPLICA');
    expect([await fingerprint(0), await fingerprint(1)]).toEqual(before);
    expect((await h.topology()).replicas.map((r) => r.state)).toEqual(['STOPPED', 'OK']);
  });

  it('runs them for real, each audited with its reason; the CLI needs a reason and the token', async () => {
    expect(await cli('restart', 'replica1')).toMatchObject({ code: 1, out: expect.stringContaining('needs --reason') });
    const noToken: string[] = [];
    expect(await runCli(['restart', 'replica1', '--reason', 'x'], { env: { REPL_ADMIN_URL: h.url }, out: (l) => noToken.push(l), err: (l) => noToken.push(l) })).toBe(1);
    expect(noToken.join()).toMatch(/401/);

    expect(await cli('restart', 'replica1', '--reason', 'stopped for the dry-run test')).toMatchObject({ code: 0, out: expect.stringMatching(/manual restart on replica1: done — replication is running/) });
    expect((await action('replica2', 'read-only', { reason: 'read_only was turned off by hand' })).body).toMatchObject({ outcome: 'done', message: 'read_only is ON' });
    expect((await action('replica2', 'repoint', { reason: 'back to the configured primary' })).body).toMatchObject({ outcome: 'done' });
    // A forced rebuild keeps the replication account the replica had.
    await h.t.primary.query("INSERT INTO vita.probe VALUES (7, 'before the rebuild')");
    expect((await action('replica2', 'rebuild', { reason: 'practice run', force: true })).body).toMatchObject({ outcome: 'done', message: expect.stringMatching(/^rebuilt from the snapshot at 0-1-\d+: 4 tables/) });
    await h.t.primary.query("INSERT INTO vita.probe VALUES (8, 'after the rebuild')");
    const t = await h.until('all OK, caught up, no warning', (x) => x.replicas.every((r) => r.state === 'OK' && r.gtid.slave === x.primary.gtid.binlog) && x.warnings.length === 0 && x);
    expect(await h.t.replicas[1].query('SELECT id FROM vita.probe ORDER BY id')).toEqual([{ id: 1 }, { id: 7 }, { id: 8 }]);
    expect(await h.t.replicas[1].query<Row[]>('SHOW REPLICA STATUS')).toEqual([expect.objectContaining({ Master_User: h.t.replicationUser, Using_Gtid: 'Slave_Pos' })]);
    expect(t.lastActions.slice(0, 4).map((a) => [a.action, a.replica, a.outcome, a.reason])).toEqual([
      ['rebuild', 'replica2', 'done', 'practice run'],
      ['repoint', 'replica2', 'done', 'back to the configured primary'],
      ['read-only', 'replica2', 'done', 'read_only was turned off by hand'],
      ['restart', 'replica1', 'done', 'stopped for the dry-run test'],
    ]);
    expect(await fingerprint(1)).toMatchObject({ ro: 1 });
    await h.app.get(AuditService).flushed();
    const lines = readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.length).toBe((await h.app.get(AuditService).list()).length);
    expect(lines[lines.length - 1]).toMatchObject({ action: 'rebuild', outcome: 'done', requestId: expect.any(String) });
    const text = readFileSync(join(dir, 'audit.jsonl'), 'utf8');
    for (const s of h.secrets) expect(text).not.toContain(s);
  });

  it('the provision command (nx run repl-admin:provision) re-runs cleanly on the live primary and changes no grant', async () => {
    const grants = () => h.t.primary.query<Row[]>("SHOW GRANTS FOR repl_monitor@'%'");
    const before = await grants();
    const keys = ['REPL_MONITOR_USER', 'REPL_MONITOR_PASSWORD', 'REPL_ADMIN_USER', 'REPL_ADMIN_PASSWORD'] as const;
    const run = spawnSync(process.execPath, [join(workspaceRoot(), 'dist/apps/repl-admin/provision.js')], {
      env: { PATH: process.env['PATH'], DB_ADMIN_SOCKET: h.t.primary.socketPath, ...Object.fromEntries(keys.map((k) => [k, h.env[k]])) },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect([run.status, run.stdout.trim()]).toEqual([0, 'heartbeat table repl_admin.heartbeat and accounts repl_monitor, repl_admin are ready']);
    expect(await grants()).toEqual(before);
    await h.until('still all OK', (t) => t.replicas.every((r) => r.state === 'OK'));
  });
});
