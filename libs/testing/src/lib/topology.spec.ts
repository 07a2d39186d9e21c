import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection } from 'mariadb';
import { findMariadbdPids, MariadbNotInstalledError, MariaServer, pidAlive, replicaStatus, waitFor } from '@vita/mariadb';
import { startTopology, sweepStaleTopologies, TestTopology, workspaceRoot } from '../index';

type Row = Record<string, unknown>;
const count = async (s: MariaServer) => (await s.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM app.t'))[0].n;
const ioState = async (s: MariaServer) => (await replicaStatus(s))?.['Slave_IO_Running'];
/** Bounded poll until every replica's IO thread reports `state`. */
const waitForIo = (t: TestTopology, state: string) =>
  waitFor(
    async () => ((await Promise.all(t.replicas.map(ioState))).every((s) => s === state) ? true : undefined),
    15_000,
    () => new Error(`replica IO threads never reached ${state}`),
    100,
  );
const expectGone = (dir: string, pids: (number | undefined)[]) => {
  expect(pids.filter((p) => p !== undefined && pidAlive(p))).toEqual([]);
  expect(findMariadbdPids(dir)).toEqual([]);
  expect(existsSync(dir)).toBe(false);
};

describe('startTopology', () => {
  let t: TestTopology;
  let startedInMs: number;

  beforeAll(async () => {
    const t0 = Date.now();
    t = await startTopology();
    startedInMs = Date.now() - t0;
    await t.primary.query('CREATE DATABASE app');
    await t.primary.query('CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(32))');
  });
  afterAll(() => t?.close());

  it('starts a primary and 2 GTID replicas quickly, with the expected settings', async () => {
    process.stdout.write(`startTopology(2 replicas) took ${startedInMs} ms\n`);
    expect(startedInMs).toBeLessThan(10_000);
    expect(t.replicas).toHaveLength(2);
    const settings = await Promise.all(
      [t.primary, ...t.replicas].map(async (s) =>
        (await s.query<Row[]>('SELECT @@server_id AS id, @@binlog_format AS fmt, @@gtid_strict_mode AS strict, @@read_only AS ro'))[0],
      ),
    );
    expect(new Set(settings.map((s) => s['id'])).size).toBe(3);
    expect(settings.map(({ fmt, strict, ro }) => ({ fmt, strict, ro }))).toEqual([
      { fmt: 'ROW', strict: 1, ro: 0 },
      { fmt: 'ROW', strict: 1, ro: 1 },
      { fmt: 'ROW', strict: 1, ro: 1 },
    ]);
    for (const r of t.replicas) {
      expect(await replicaStatus(r)).toMatchObject({ Using_Gtid: 'Slave_Pos', Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes', Master_User: t.replicationUser });
    }
  });

  it('replicates writes to every replica, and replicas refuse writes from non-SUPER users', async () => {
    await t.primary.query("INSERT INTO app.t (v) VALUES ('one'), ('two')");
    await t.primary.query("CREATE USER app@'%' IDENTIFIED BY 'app-pw'");
    await t.primary.query("GRANT ALL ON app.* TO app@'%'");
    await t.waitForReplicas();
    for (const r of t.replicas) expect(await r.query<Row[]>('SELECT v FROM app.t ORDER BY id')).toEqual([{ v: 'one' }, { v: 'two' }]);
    const conn = await createConnection({ host: '127.0.0.1', port: t.replicas[0].port, user: 'app', password: 'app-pw', connectTimeout: 5_000 });
    try {
      await expect(conn.query("INSERT INTO app.t (v) VALUES ('nope')")).rejects.toMatchObject({ errno: 1290 }); // ER_OPTION_PREVENTS_STATEMENT
    } finally {
      await conn.end();
    }
  });

  it('a stopped and a killed replica catch up after restart', async () => {
    const [stopped, killed] = t.replicas;
    await Promise.all([stopped.stop(), killed.kill()]);
    const before = await count(t.primary);
    await t.primary.query("INSERT INTO app.t (v) VALUES ('while-down-1'), ('while-down-2')");
    await Promise.all([stopped.start(), killed.start()]);
    await t.waitForReplicas();
    for (const r of t.replicas) expect(await count(r)).toBe(before + 2);
  });

  it('replicas notice a killed primary and resume by themselves when it comes back', async () => {
    await t.primary.kill();
    await waitForIo(t, 'Connecting');
    await t.primary.start();
    await waitForIo(t, 'Yes');
    await t.primary.query("INSERT INTO app.t (v) VALUES ('after-primary-restart')");
    await t.waitForReplicas();
    for (const r of t.replicas) expect(await count(r)).toBe(await count(t.primary));
  });
});

describe('topology teardown', () => {
  it('close() kills every mariadbd and removes the dir; it is idempotent', async () => {
    const t = await startTopology({ replicas: 1 });
    const pids = [t.primary.pid, ...t.replicas.map((r) => r.pid)];
    expect(pids.every((p) => p !== undefined && pidAlive(p))).toBe(true);
    t.replicas[0].pause(); // a stopped process must not block teardown
    await t.close();
    await t.close();
    expectGone(t.dir, pids);
  });

  it('rejects with the one-line MariadbNotInstalledError when mariadbd is missing', async () => {
    process.env['VITA_MARIADBD'] = '/nonexistent/mariadbd';
    try {
      const err = await startTopology().then(() => undefined, (e: Error) => e);
      expect(err).toBeInstanceOf(MariadbNotInstalledError);
      expect(err?.message).toMatch(/^[^\n]*apt-get install -y mariadb-server[^\n]*$/);
    } finally {
      delete process.env['VITA_MARIADBD'];
    }
  });

  /** Runs test-fixtures/topology-child.ts in a separate node process; resolves with what it started. */
  const startChild = (mode: 'exit' | 'wait') => {
    const root = workspaceRoot();
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register', '-r', 'tsconfig-paths/register', join(__dirname, '../test-fixtures/topology-child.ts'), mode],
      {
        cwd: root,
        env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TS_NODE_'))), TS_NODE_PROJECT: 'libs/testing/tsconfig.spec.json', TS_NODE_TRANSPILE_ONLY: 'true', TS_NODE_BASEURL: root },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    const started = new Promise<{ dir: string; pids: number[] }>((res, rej) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) res(JSON.parse(out.split('\n')[0]));
      });
      child.once('exit', (code) => rej(new Error(`topology child exited (${code}) before starting`)));
    });
    return { child, exited, started };
  };

  it.each(['exit', 'SIGTERM', 'SIGINT'] as const)('cleans up when the owning process ends by %s', async (how) => {
    const { child, exited, started } = startChild(how === 'exit' ? 'exit' : 'wait');
    const { dir, pids } = await started;
    if (how !== 'exit') child.kill(how);
    await exited;
    expectGone(dir, pids);
  });

  it('sweeps the leftovers of a SIGKILLed run at the next start', async () => {
    const { child, exited, started } = startChild('wait');
    const { dir, pids } = await started;
    child.kill('SIGKILL');
    await exited;
    expect(pids.every(pidAlive)).toBe(true);
    expect(sweepStaleTopologies()).toContain(dir);
    expectGone(dir, pids);
  });
});
