import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  configureReplica,
  createReplicationUser,
  findMariadbd,
  MariadbNotInstalledError,
  MariaServer,
  pidAlive,
  replicaStatus,
  replicaTlsClause,
  tlsArgs,
  waitForReplicaCatchUp,
} from '../index';

type Row = Record<string, unknown>;

describe('@vita/mariadb', () => {
  let root: string;
  const servers: MariaServer[] = [];
  const make = async (name: string, serverId: number, role: 'primary' | 'replica' = 'primary', extraArgs?: string[]) => {
    const s = await MariaServer.create({ name, serverId, role, dataDir: join(root, name), durable: false, extraArgs });
    servers.push(s);
    return s;
  };
  const vars = async (s: MariaServer, names: string[]) =>
    (await s.query<Row[]>(`SELECT ${names.map((n) => `@@GLOBAL.${n} AS ${n}`).join(', ')}`))[0];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'vita-mdb-spec-'));
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill()));
    rmSync(root, { recursive: true, force: true });
  });

  it('reports a missing mariadbd with a one-line error naming the install command', () => {
    const lookup = () => findMariadbd({ ...process.env, VITA_MARIADBD: '/nonexistent/mariadbd' });
    expect(lookup).toThrow(MariadbNotInstalledError);
    expect(lookup).toThrow(/^mariadbd \(\/nonexistent\/mariadbd\) not found: install it with `apt-get install -y mariadb-server` \(as root\)$/);
    expect(findMariadbd().mariadbd).toMatch(/mariadbd$/);
  });

  it('fails to start with a clear error carrying the tail of the error log', async () => {
    const bad = await make('bad', 99, 'primary', ['--no-such-option-vita']);
    await expect(bad.start()).rejects.toThrow(/bad failed to start[\s\S]*no-such-option-vita/);
    expect(bad.running).toBe(false);
  });

  it('starts a primary with replication-ready settings and keeps its data across stop/start and re-create', async () => {
    const p = await make('solo', 11);
    await p.start();
    expect(p.running).toBe(true);
    expect(await vars(p, ['server_id', 'binlog_format', 'gtid_strict_mode', 'log_bin', 'log_slave_updates', 'read_only', 'bind_address', 'skip_name_resolve', 'performance_schema'])).toEqual({
      server_id: 11, binlog_format: 'ROW', gtid_strict_mode: 1, log_bin: 1, log_slave_updates: 1, read_only: 0,
      bind_address: '127.0.0.1', skip_name_resolve: 1, performance_schema: 0,
    });
    // Only root@localhost (socket) exists: no passwordless root over TCP.
    expect(await p.query<Row[]>("SELECT Host AS host FROM mysql.user WHERE User = 'root'")).toEqual([{ host: 'localhost' }]);
    await p.query('CREATE DATABASE keep');
    await p.query('CREATE TABLE keep.t (id INT PRIMARY KEY)');
    await p.query('INSERT INTO keep.t VALUES (?), (?)', [1, 2]);
    await p.stop();
    expect(p.running).toBe(false);
    expect(p.pid).toBeUndefined();
    const again = await MariaServer.create({ name: 'solo', serverId: 11, role: 'primary', dataDir: p.dataDir, port: p.port, durable: false });
    servers.push(again);
    await again.start();
    expect(await again.query<Row[]>('SELECT COUNT(*) AS n FROM keep.t')).toEqual([{ n: 2 }]);
  });

  it('kill(), pause() and resume() act on the process', async () => {
    const s = await make('signals', 12);
    await s.start();
    s.pause();
    const t0 = Date.now();
    await expect(s.query('SELECT 1', [], { connectTimeoutMs: 500, timeoutMs: 500 })).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(3_000);
    s.resume();
    expect(await s.query<Row[]>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    const pid = s.pid as number;
    await s.kill();
    expect(pidAlive(pid)).toBe(false);
    expect(s.running).toBe(false);
    await s.start(); // crash recovery after SIGKILL
    expect(await s.query<Row[]>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('replicates with GTID to a read-only replica and reports a stuck replica clearly', async () => {
    const [p, r] = await Promise.all([make('p', 21), make('r', 22, 'replica')]);
    await Promise.all([p.start(), r.start()]);
    const password = 'Secret-Pw-42';
    await createReplicationUser(p, 'repl', password);
    await expect(configureReplica(r, p, { user: 'repl', password, connectRetrySeconds: -1 })).rejects.toThrow(
      /^configureReplica on r failed: ER_PARSE_ERROR: \(details withheld/,
    );
    await configureReplica(r, p, { user: 'repl', password });
    await p.query('CREATE DATABASE app');
    await p.query('CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(20))');
    await p.query("INSERT INTO app.t VALUES (1, 'a')");
    await waitForReplicaCatchUp(r, p);
    expect(await r.query<Row[]>('SELECT id, v FROM app.t')).toEqual([{ id: 1, v: 'a' }]);
    expect(await vars(r, ['read_only', 'server_id', 'slave_net_timeout'])).toEqual({ read_only: 1, server_id: 22, slave_net_timeout: 5 });
    expect(await replicaStatus(r)).toMatchObject({ Using_Gtid: 'Slave_Pos', Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes', Master_Port: p.port });
    expect(await replicaStatus(p)).toBeNull();

    await r.query('STOP SLAVE SQL_THREAD');
    await p.query("INSERT INTO app.t VALUES (2, 'b')");
    const err = await waitForReplicaCatchUp(r, p, 500).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/replica r did not catch up with primary p within 500 ms: primary gtid_binlog_pos=0-21-\d+, replica gtid_slave_pos=0-21-\d+/);
    expect(err?.message).not.toContain(password);
    await r.query('START SLAVE SQL_THREAD');
    await waitForReplicaCatchUp(r, p);
    expect(await r.query<Row[]>('SELECT COUNT(*) AS n FROM app.t')).toEqual([{ n: 2 }]);
  });

  it('TLS options: mariadbd flags, the CHANGE MASTER clause, REQUIRE on the replication account', async () => {
    expect(tlsArgs(undefined)).toEqual([]);
    expect(tlsArgs({ ca: '/c/ca.crt', cert: '/c/db.crt', key: '/c/db.key', requireSecureTransport: true })).toEqual([
      '--ssl-ca=/c/ca.crt', '--ssl-cert=/c/db.crt', '--ssl-key=/c/db.key', '--require-secure-transport=ON',
    ]);
    expect(tlsArgs({ ca: '/c/ca.crt', cert: '/c/db.crt', key: '/c/db.key' })).toHaveLength(3);
    expect(replicaTlsClause(undefined)).toEqual({ sql: '', params: [] });
    expect(replicaTlsClause({ ca: '/c/ca.crt' })).toEqual({ sql: ', MASTER_SSL=1, MASTER_SSL_CA=?, MASTER_SSL_VERIFY_SERVER_CERT=1', params: ['/c/ca.crt'] });
    expect(replicaTlsClause({ ca: '/c/ca.crt', cert: '/c/r.crt', key: '/c/r.key' }).sql).toBe(', MASTER_SSL=1, MASTER_SSL_CA=?, MASTER_SSL_CERT=?, MASTER_SSL_KEY=?, MASTER_SSL_VERIFY_SERVER_CERT=1');
    const p = await make('require', 31);
    await p.start();
    await createReplicationUser(p, 'r_ssl', 'pw-1', { requireSsl: 'SSL' });
    await createReplicationUser(p, 'r_x509', 'pw-2', { requireSsl: 'X509' });
    await createReplicationUser(p, 'r_plain', 'pw-3');
    expect(await p.query<Row[]>("SELECT User AS u, ssl_type AS t FROM mysql.user WHERE User LIKE 'r\\_%' ORDER BY User")).toEqual([
      { u: 'r_plain', t: '' }, { u: 'r_ssl', t: 'ANY' }, { u: 'r_x509', t: 'X509' },
    ]);
  });
});
