import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'mariadb';
import { configureReplica, createReplicationUser, mariadbClientTls, readCaFile, replicaStatus, waitFor, type MariaServer } from '@vita/mariadb';
import { startTopology, type TestTopology } from '@vita/testing';
import { caPaths, initCa, issueHostCert } from '../index';

// Real mariadbd processes: every wait below is bounded well under this.
jest.setTimeout(90_000);

type Row = Record<string, unknown>;

/** The CA's certificates on real MariaDB servers: server TLS, plaintext refused, replication verifying the primary. */
describe('MariaDB with the internal CA', () => {
  let root: string;
  let ca: string;
  let other: string;
  let t: TestTopology;

  const connectTcp = async (server: MariaServer, user: string, password: string, ssl?: object): Promise<Row[]> => {
    const conn = await createConnection({ host: '127.0.0.1', port: server.port, user, password, connectTimeout: 5_000, ...(ssl ? { ssl } : {}) });
    try {
      return await conn.query<Row[]>("SHOW SESSION STATUS LIKE 'Ssl_version'");
    } finally {
      await conn.end();
    }
  };
  const io = (r: MariaServer) => replicaStatus(r).then((s) => ({ running: s?.['Slave_IO_Running'], errno: s?.['Last_IO_Errno'], error: String(s?.['Last_IO_Error'] ?? '') }));

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'vita-ca-mariadb-'));
    ca = join(root, 'ca');
    other = join(root, 'other-ca');
    await initCa({ dir: ca });
    await initCa({ dir: other });
    const primary = await issueHostCert({ dir: ca, name: 'primary', ips: ['127.0.0.1'] });
    const replica = await issueHostCert({ dir: ca, name: 'replica', ips: ['127.0.0.1'] });
    const caFile = caPaths(ca).crt;
    t = await startTopology({
      replicas: 1,
      tls: {
        primary: { ca: caFile, cert: primary.crt, key: primary.key, requireSecureTransport: true },
        replicas: [{ ca: caFile, cert: replica.crt, key: replica.key, requireSecureTransport: true }],
        replicationCa: caFile,
        requireSsl: 'SSL',
      },
    });
    await t.primary.query("CREATE USER tls_user@'%' IDENTIFIED BY 'tls-user-password'");
  });
  afterAll(async () => {
    await t?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses plaintext TCP (require_secure_transport) while root keeps working over the unix socket', async () => {
    expect(await t.primary.query<Row[]>("SELECT @@require_secure_transport AS rst, @@have_ssl AS have")).toEqual([{ rst: 1, have: 'YES' }]);
    // The socket counts as secure: admin over it needs no TLS.
    expect(await t.primary.query<Row[]>('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    // MariaDB 10.11 answers a plaintext login with "access denied", the password being right.
    await expect(connectTcp(t.primary, 'tls_user', 'tls-user-password')).rejects.toMatchObject({ errno: 1045 });
    const [row] = await connectTcp(t.primary, 'tls_user', 'tls-user-password', mariadbClientTls(readCaFile(caPaths(ca).crt, 'test'), '127.0.0.1'));
    expect(String(row['Value'])).toMatch(/^TLSv1\.[23]$/);
  });

  it('a client verifying with another CA is refused before logging in', async () => {
    await expect(connectTcp(t.primary, 'tls_user', 'tls-user-password', mariadbClientTls(readCaFile(caPaths(other).crt, 'test'), '127.0.0.1'))).rejects.toMatchObject({
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    });
  });

  it('replicates over TLS, verifying the primary: a write reaches the replica', async () => {
    const [replica] = t.replicas;
    expect(await replicaStatus(replica)).toMatchObject({ Slave_IO_Running: 'Yes', Master_SSL_Allowed: 'Yes', Master_SSL_Verify_Server_Cert: 'Yes', Master_SSL_CA_File: caPaths(ca).crt });
    await t.primary.query('CREATE DATABASE tls_app');
    await t.primary.query('CREATE TABLE tls_app.t (id INT PRIMARY KEY, v VARCHAR(20))');
    await t.primary.query("INSERT INTO tls_app.t VALUES (1, 'over tls')");
    await t.waitForReplicas();
    expect(await replica.query<Row[]>('SELECT v FROM tls_app.t')).toEqual([{ v: 'over tls' }]);
    // The primary takes no plaintext TCP and the account is REQUIRE SSL: this connection is TLS.
    expect(await t.primary.query<Row[]>("SELECT ssl_type AS t FROM mysql.user WHERE User = ?", [t.replicationUser])).toEqual([{ t: 'ANY' }]);
  });

  it('a replica that connects without TLS is refused (1045), the password never in its error', async () => {
    const [replica] = t.replicas;
    await createReplicationUser(t.primary, 'plain_repl', 'plain-repl-pw', { requireSsl: 'SSL' });
    await configureReplica(replica, t.primary, { user: 'plain_repl', password: 'plain-repl-pw', tls: { ca: caPaths(ca).crt } });
    await waitFor(async () => ((await io(replica)).running === 'Yes' ? true : undefined), 10_000, () => new Error('TLS replication with the new account did not start'));
    await replica.query('STOP SLAVE');
    await replica.query('CHANGE MASTER TO MASTER_SSL=0');
    await replica.query('START SLAVE');
    const failed = await waitFor(async () => ((await io(replica)).errno === 1045 ? io(replica) : undefined), 10_000, () => new Error('no 1045'));
    expect(failed.error).toMatch(/Access denied for user 'plain_repl'/);
    expect(failed.error).not.toContain('plain-repl-pw');
  });

  it('a replica given another CA fails with 2026 and does not replicate', async () => {
    const [replica] = t.replicas;
    await configureReplica(replica, t.primary, { user: 'plain_repl', password: 'plain-repl-pw', tls: { ca: caPaths(other).crt } });
    const failed = await waitFor(async () => ((await io(replica)).errno === 2026 ? io(replica) : undefined), 10_000, () => new Error('no 2026'));
    expect(failed).toMatchObject({ running: 'Connecting', error: expect.stringMatching(/SSL connection error/) });
  });

  it('a primary certificate for another address fails the host-name check (MASTER_SSL_VERIFY_SERVER_CERT); re-issuing it and restarting the primary heals', async () => {
    const [replica] = t.replicas;
    await issueHostCert({ dir: ca, name: 'primary', ips: ['127.0.0.2'] });
    await t.primary.restart();
    await configureReplica(replica, t.primary, { user: 'plain_repl', password: 'plain-repl-pw', tls: { ca: caPaths(ca).crt } });
    const failed = await waitFor(async () => ((await io(replica)).errno === 2026 ? io(replica) : undefined), 10_000, () => new Error('no 2026'));
    expect(failed.error).toMatch(/SSL connection error: SSL certificate validation failure/);
    await expect(connectTcp(t.primary, 'tls_user', 'tls-user-password', mariadbClientTls(readCaFile(caPaths(ca).crt, 'test'), '127.0.0.1'))).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });

    // Rotation of a host certificate: re-issue, restart the one service.
    await issueHostCert({ dir: ca, name: 'primary', ips: ['127.0.0.1'] });
    await t.primary.restart();
    await t.primary.query("INSERT INTO tls_app.t VALUES (2, 'after rotation')");
    await t.waitForReplicas(20_000);
    expect(await replica.query<Row[]>('SELECT COUNT(*) AS n FROM tls_app.t')).toEqual([{ n: 2 }]);
  });
});
