import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { runAsAdmin, type MariaServer } from '@vita/mariadb';
import { caPaths, initCa, issueHostCert } from '@vita/sites';
import { sampleResume } from '@vita/testing';
import * as mysql2 from 'mysql2/promise';
import { readFileSync } from 'node:fs';
import { apiEnv, type ApiDatabases, eventually, startApi, startApiDatabases } from '../../test/api-stack';
import { createDataSource } from './data-source';

interface Ready {
  status: string;
  checks: { detail: { active: string | null; databases: { name: string; role: string; state: string; reason?: string }[] } }[];
}

/** The api over MariaDB servers that take TLS only: DB_TLS_CA verifies each server's certificate and host name. */
describe('api database connections over verified TLS', () => {
  let root: string;
  let ca: string;
  let other: string;
  let dbs: ApiDatabases;
  let replica: MariaServer;
  const apps: NestFastifyApplication[] = [];
  const name = (s: MariaServer) => `${s.host}:${s.port}`;
  const start = async (overrides: Record<string, string>) => {
    const app = await startApi(apiEnv(dbs, overrides));
    apps.push(app);
    return app;
  };
  const ready = async (app: NestFastifyApplication) => (await app.inject({ method: 'GET', url: '/health/ready' })).json<Ready>().checks[0].detail;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'vita-api-tls-'));
    ca = join(root, 'ca');
    other = join(root, 'other-ca');
    await initCa({ dir: ca });
    await initCa({ dir: other });
    const caFile = caPaths(ca).crt;
    const server = (pair: { key: string; crt: string }) => ({ ca: caFile, cert: pair.crt, key: pair.key, requireSecureTransport: true });
    dbs = await startApiDatabases(1, {
      primary: server(await issueHostCert({ dir: ca, name: 'primary', ips: ['127.0.0.1'] })),
      replicas: [server(await issueHostCert({ dir: ca, name: 'replica', ips: ['127.0.0.1'] }))],
      replicationCa: caFile,
      requireSsl: 'SSL',
      caFile, // migrate runs over TLS too
    });
    [replica] = dbs.topology.replicas;
  });
  afterAll(async () => {
    await Promise.allSettled(apps.map((a) => a.close()));
    await dbs?.topology.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('with DB_TLS_CA, reads and writes work against servers that refuse plaintext', async () => {
    const app = await start({ DB_TLS_CA: caPaths(ca).crt });
    const put = await app.inject({
      method: 'PUT',
      url: '/api/v1/resume',
      headers: { authorization: `Bearer ${dbs.adminToken}`, 'content-type': 'application/json' },
      payload: JSON.stringify(sampleResume()),
    });
    expect(put.statusCode).toBe(200);
    await dbs.topology.waitForReplicas();
    await eventually(async () => (await app.inject({ method: 'GET', url: '/api/v1/resume' })).headers.etag === '"v1"', 10_000, 'version 1 read back');
    expect((await ready(app)).databases.map((d) => [d.name, d.state])).toEqual([
      [name(replica), 'healthy'],
      [name(dbs.topology.primary), 'healthy'],
    ]);
  });

  it('without DB_TLS_CA every database refuses the api (plaintext); with another CA the reason says the certificate is not trusted', async () => {
    const plain = await start({});
    const trustsOther = await start({ DB_TLS_CA: caPaths(other).crt });
    await eventually(async () => (await ready(plain)).databases.every((d) => d.state === 'down' && d.reason !== 'not checked yet'), 5000, 'plaintext refused');
    for (const d of (await ready(plain)).databases) expect(d.reason).toMatch(/Access denied for user 'vita_reader'/);
    await eventually(async () => (await ready(trustsOther)).databases.every((d) => d.state === 'down' && d.reason !== 'not checked yet'), 5000, 'untrusted certificates');
    for (const d of (await ready(trustsOther)).databases) {
      expect(d.reason).toMatch(/^TLS verification failed: the server's certificate is not signed by a trusted CA \(self-signed certificate in certificate chain\)$/);
    }
  });

  it('a certificate for another host name fails verification: reads leave that server, and a DataSource refuses it', async () => {
    const app = await start({ DB_TLS_CA: caPaths(ca).crt });
    await eventually(async () => (await ready(app)).active === name(replica), 5000, 'reads from the replica');
    // Re-issue the replica's certificate for 127.0.0.2 only (the api reaches it at 127.0.0.1) and restart it.
    await issueHostCert({ dir: ca, name: 'replica', ips: ['127.0.0.2'] });
    await replica.restart();
    await eventually(async () => (await ready(app)).active === name(dbs.topology.primary), 10_000, 'reads to move to the primary');
    // While it restarts the reason is "connection refused"; then the TLS check speaks.
    await eventually(async () => /^TLS/.test((await ready(app)).databases[0].reason ?? ''), 10_000, 'the TLS reason');
    const [local] = (await ready(app)).databases;
    expect(local).toMatchObject({ name: name(replica), state: 'down' });
    expect(local.reason).toMatch(/^TLS verification failed: the server's certificate does not name the host connected to \(.*IP: 127\.0\.0\.1 is not in the cert's list: 127\.0\.0\.2\)$/);
    expect((await app.inject({ method: 'GET', url: '/api/v1/resume' })).statusCode).toBe(200);

    const login = { user: dbs.logins.reader.user, password: dbs.logins.reader.password, database: 'vita' };
    const source = createDataSource({ host: '127.0.0.1', port: replica.port }, login, { timeoutMs: 3000, tlsCaFile: caPaths(ca).crt });
    await expect(source.initialize()).rejects.toMatchObject({ code: 'HANDSHAKE_SSL_ERROR', message: expect.stringMatching(/does not match certificate's altnames/) });
    // What mysql2 does with only a CA (its default): the chain is checked, the host name is not. Hence verifyIdentity and the socket's host.
    const lax = await mysql2.createConnection({ host: '127.0.0.1', port: replica.port, ...login, ssl: { ca: readFileSync(caPaths(ca).crt) }, connectTimeout: 3000 });
    await lax.end();

    await issueHostCert({ dir: ca, name: 'replica', ips: ['127.0.0.1'] });
    await replica.restart();
    await eventually(async () => (await ready(app)).active === name(replica), 15_000, 'reads back on the replica after its certificate is fixed');
  });

  it('provisioning as an administrator over TCP verifies the server too', async () => {
    const { primary } = dbs.topology;
    await primary.query("CREATE USER vita_admin_tls@'%' IDENTIFIED BY 'admin-tls-password'");
    await primary.query("GRANT ALL ON *.* TO vita_admin_tls@'%' WITH GRANT OPTION");
    const login = { DB_ADMIN_HOST: name(primary), DB_ADMIN_USER: 'vita_admin_tls', DB_ADMIN_PASSWORD: 'admin-tls-password' };
    await runAsAdmin(login, [{ sql: 'SELECT 1', params: [] }], { caFile: caPaths(ca).crt, setting: 'DB_TLS_CA' });
    await expect(runAsAdmin(login, [{ sql: 'SELECT 1', params: [] }], { caFile: caPaths(other).crt, setting: 'DB_TLS_CA' })).rejects.toMatchObject({ code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    await expect(runAsAdmin(login, [{ sql: 'SELECT 1', params: [] }])).rejects.toMatchObject({ errno: 1045 });
  });
});
