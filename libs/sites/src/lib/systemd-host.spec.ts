import { findMariadbd, MariaServer, nextFreePort } from '@vita/mariadb';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseSiteConfig, type NodeSite } from './site-config';
import { hostLayout, mariadbdCommand, readyPrimaryVersion, siteServerId, SystemdNodeHost } from './systemd-host';

const ROOT = resolve(__dirname, '..', '..', '..', '..');
const SECRETS = { DB_READ_PASSWORD: 'reader-pw-1234567890', DB_WRITE_PASSWORD: 'writer-pw-1234567890', DB_MIGRATE_PASSWORD: 'migrator-pw-1234567890', VITA_ADMIN_TOKEN: 'admin-token-1234567890', LB_ADMIN_TOKEN: 'lb-token-1234567890' };

describe('a host run by systemd: pure parts', () => {
  const node = parseSiteConfig('role: node\nname: node-a\naddress: 10.1.0.2\nwarehouse: 10.1.0.1\nhome: /srv/vita\n');
  const warehouse = parseSiteConfig('role: warehouse\nname: dw\naddress: db.example.org\n');

  it("finds the primary's version in the api's readiness report (the read-database check's detail.primary.version)", () => {
    const report = { status: 'fail', checks: [{ name: 'shutdown', ok: true }, { name: 'read-database', ok: false, detail: { primary: { name: 'primary', role: 'primary', state: 'up', version: 41 } } }] };
    expect(readyPrimaryVersion(report)).toBe(41);
    expect(readyPrimaryVersion({ checks: [{ name: 'read-database', detail: { primary: { state: 'down' } } }] })).toBeUndefined();
    expect(readyPrimaryVersion({ checks: [{ name: 'read-database', detail: { primary: { version: '3' } } }] })).toBeUndefined();
    expect(readyPrimaryVersion(null)).toBeUndefined();
    expect(readyPrimaryVersion('<html>')).toBeUndefined();
  });

  it('gives the warehouse server id 1 and each node a stable id of its own in 2 … 2^32-1', () => {
    expect(siteServerId(warehouse)).toBe(1);
    const ids = ['node-a', 'node-b', 'node-c', 'n1', 'n2'].map((name) => siteServerId({ ...(node as NodeSite), name }));
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id >= 2 && id <= 2 ** 32 - 1).toBe(true);
    expect(siteServerId(node)).toBe(siteServerId({ ...(node as NodeSite) }));
  });

  it("runs mariadbd on the site file's address with the host's certificate, TLS required, read-only on a node", () => {
    const cmd = mariadbdCommand(node, { root: '/opt/vita', node: '/usr/bin/node', mariadbd: '/usr/sbin/mariadbd', asRoot: true });
    expect(cmd[0]).toBe('/usr/sbin/mariadbd');
    expect(cmd).toEqual(
      expect.arrayContaining([
        '--no-defaults',
        '--bind-address=10.1.0.2',
        '--port=3306',
        '--datadir=/srv/vita/data/replica',
        '--socket=/srv/vita/run/mariadb/mysqld.sock',
        '--ssl-ca=/srv/vita/tls/ca.crt',
        '--ssl-cert=/srv/vita/tls/node-a.crt',
        '--ssl-key=/srv/vita/tls/node-a.key',
        '--require-secure-transport=ON',
        '--read-only=1',
        '--sync-binlog=1',
        `--server-id=${siteServerId(node)}`,
        '--user=root',
      ]),
    );
    expect(mariadbdCommand(warehouse, { root: '/opt/vita', node: '/usr/bin/node', mariadbd: '/usr/sbin/mariadbd', asRoot: false })).toEqual(
      expect.arrayContaining(['--bind-address=db.example.org', '--read-only=0', '--datadir=/var/lib/vita/data/primary']),
    );
    expect(() => hostLayout({ ...(node as NodeSite), home: `/${'x'.repeat(90)}` })).toThrow(/too long: the database socket/);
  });
});

describe('SystemdNodeHost against a fake systemctl and a real mariadbd', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vita-sdhost-'));
  const home = join(dir, 'home');
  const unitDir = join(dir, 'units');
  const calls = join(dir, 'systemctl.calls');
  const systemctl = join(dir, 'systemctl');
  let site: NodeSite;
  let host: SystemdNodeHost;
  let replica: MariaServer;
  const servers: Server[] = [];

  beforeAll(async () => {
    // Records each call; the verb in the file `fail` fails as systemctl does.
    writeFileSync(systemctl, `#!/bin/sh\necho "$*" >> '${calls}'\nif [ -f '${dir}/fail' ] && [ "$1" = "$(cat '${dir}/fail')" ]; then echo "Failed to $1 unit: Unit not found." >&2; exit 5; fi\nexit 0\n`);
    chmodSync(systemctl, 0o755);
    const [db, api, lb] = [await nextFreePort(), await nextFreePort(), await nextFreePort()];
    site = parseSiteConfig(`role: node\nname: node-a\naddress: 127.0.0.1\nwarehouse: 127.0.0.2\nhome: ${home}\nports:\n  mariadb: ${db}\n  api: [${api}]\n  web: [${await nextFreePort()}]\n  lb: ${lb}\n`) as NodeSite;
    const layout = hostLayout(site);
    mkdirSync(home, { recursive: true });
    writeFileSync(layout.secretsFile, Object.entries(SECRETS).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
    // What systemd's vita-mariadb would be: a replica with the host's data directory and socket.
    replica = await MariaServer.create({ name: 'replica', dataDir: layout.dataDir, runDir: layout.runDir, port: db, serverId: siteServerId(site), role: 'replica', durable: false, keepProcessAlive: false });
    await replica.start();
    host = new SystemdNodeHost({ site, programs: { root: ROOT, node: process.execPath, mariadbd: findMariadbd().mariadbd }, unitDir, systemctl, replicaTimeoutMs: 3000, readyTimeoutMs: 3000 });
  }, 120_000);
  afterAll(async () => {
    await replica?.stop();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });
  const recorded = (): string[] => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []);
  const serve = (port: number, answer: (path: string) => { status: number; headers?: Record<string, string>; body: string }) =>
    new Promise<void>((ready) => {
      const server = createServer((req, res) => {
        const a = answer(req.url ?? '/');
        res.writeHead(a.status, a.headers).end(a.body);
      });
      servers.push(server);
      server.listen(port, '127.0.0.1', () => ready());
    });

  it('startReplica writes the units, reloads systemd, starts vita-mariadb and waits for its socket', async () => {
    rmSync(calls, { force: true });
    await host.startReplica();
    expect(recorded()).toEqual(['daemon-reload', 'start vita-mariadb.service']);
    expect(existsSync(join(unitDir, 'vita-node.target'))).toBe(true);
    expect(readFileSync(join(home, 'env', `vita-api-${site.ports.api[0]}.env`), 'utf8')).toContain(`DB_READ_PASSWORD=${SECRETS.DB_READ_PASSWORD}`);
    expect(readFileSync(join(unitDir, 'vita-mariadb.service'), 'utf8')).toContain(`"--socket=${hostLayout(site).socketPath}"`);
  });

  it("local runs the node's own statements unlogged; replicaStatus is null until a primary is configured", async () => {
    const before = await replica.query<{ pos: string }[]>('SELECT @@gtid_binlog_pos AS pos');
    await host.local([
      { sql: 'CREATE DATABASE IF NOT EXISTS local_only', params: [] },
      { sql: "CREATE OR REPLACE USER ?@'%' IDENTIFIED BY ?", params: ['node_local', 'pw-of-node-local'] },
    ]);
    expect(await replica.query<{ pos: string }[]>('SELECT @@gtid_binlog_pos AS pos')).toEqual(before);
    expect(await replica.query<unknown[]>("SELECT User FROM mysql.user WHERE User = 'node_local'")).toHaveLength(1);
    expect(await host.replicaStatus()).toBeNull();
    await host.local([{ sql: "CHANGE MASTER TO MASTER_HOST='127.0.0.2', MASTER_PORT=1, MASTER_USER='x', MASTER_PASSWORD='y'", params: [] }]);
    expect(await host.replicaStatus()).toMatchObject({ Master_Host: '127.0.0.2', Slave_IO_Running: 'No' });
    await host.local([{ sql: 'RESET REPLICA ALL', params: [] }]);
    const failed = host.local([{ sql: 'CREATE USER ?@? IDENTIFIED BY ? WITH NONSENSE', params: ['u', 'h', 'pw-never-shown'] }]);
    await expect(failed).rejects.toThrow('statement 1 of 1 on the local replica failed: ER_PARSE_ERROR: (details withheld: the statement has parameters)');
  });

  it("provisionAccounts creates the api's accounts on the replica with the bundle's provision.js over the socket", async () => {
    await host.provisionAccounts(SECRETS, '10.1.0.%');
    const users = await replica.query<{ User: string; Host: string }[]>("SELECT User, Host FROM mysql.user WHERE User LIKE 'vita\\_%' ORDER BY User");
    expect(users).toEqual([
      { User: 'vita_migrator', Host: '10.1.0.%' },
      { User: 'vita_reader', Host: '10.1.0.%' },
      { User: 'vita_writer', Host: '10.1.0.%' },
    ]);
    await expect(host.provisionAccounts({ ...SECRETS, DB_WRITE_PASSWORD: '' }, '%')).rejects.toThrow("the site's secrets lack DB_WRITE_PASSWORD");
  });

  it('startServices rewrites the units with the secrets given and starts the target; stop, enable and disable go to systemctl', async () => {
    rmSync(calls, { force: true });
    await host.startServices({ ...SECRETS, VITA_ADMIN_TOKEN: 'a-newer-admin-token-123' });
    expect(readFileSync(join(home, 'env', `vita-api-${site.ports.api[0]}.env`), 'utf8')).toContain('VITA_ADMIN_TOKEN=a-newer-admin-token-123');
    await host.stopServices();
    await host.startAtBoot(true);
    await host.startAtBoot(false);
    expect(recorded()).toEqual(['daemon-reload', 'start vita-node.target', 'stop vita-node.target', 'enable vita-node.target', 'disable vita-node.target']);
  });

  it("a failing systemctl is an error naming the command and systemctl's own words", async () => {
    writeFileSync(join(dir, 'fail'), 'stop');
    try {
      await expect(host.stopServices()).rejects.toThrow('systemctl stop vita-node.target failed: Failed to stop unit: Unit not found.');
    } finally {
      rmSync(join(dir, 'fail'));
    }
  });

  it("reads the page's version from the lb's ETag and the primary's from the api's readiness", async () => {
    let etag = '"v5-abc"';
    await serve(site.ports.lb, () => ({ status: 200, headers: { etag }, body: '<html></html>' }));
    expect(await host.pageVersion()).toBe(5);
    etag = 'not-a-version';
    expect(await host.pageVersion()).toBeNull();
    let ready = false;
    await serve(site.ports.api[0], (path) =>
      path !== '/health/ready'
        ? { status: 404, body: '{}' }
        : { status: 503, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ status: 'fail', checks: [{ name: 'read-database', ok: false, detail: ready ? { primary: { version: 9 } } : {} }] }) },
    );
    setTimeout(() => (ready = true), 600);
    expect(await host.primaryVersion()).toBe(9);
  });

  it('gives up on a replica that never answers, within the bound, naming the socket and where to look', async () => {
    const other = parseSiteConfig(`role: node\nname: node-z\naddress: 127.0.0.1\nwarehouse: 127.0.0.2\nhome: ${join(dir, 'z')}\n`) as NodeSite;
    mkdirSync(join(dir, 'z'), { recursive: true });
    writeFileSync(join(dir, 'z', 'secrets.env'), Object.entries(SECRETS).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
    const lost = new SystemdNodeHost({ site: other, programs: { root: ROOT, node: process.execPath, mariadbd: findMariadbd().mariadbd }, unitDir: join(dir, 'z-units'), systemctl, replicaTimeoutMs: 500 });
    const started = Date.now();
    await expect(lost.startReplica()).rejects.toThrow(`the replica (vita-mariadb) does not answer on ${hostLayout(other).socketPath} within 0.5 s`);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(existsSync(join(hostLayout(other).dataDir, 'mysql'))).toBe(true);
  }, 60_000);
});
