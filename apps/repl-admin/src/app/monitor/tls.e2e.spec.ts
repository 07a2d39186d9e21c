import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEnv } from '@vita/runtime';
import { caPaths, initCa, issueHostCert } from '@vita/sites';
import { ReplAdminEnv } from '../config/env';
import { type ReplAdminHarness, startReplAdmin } from '../../test/repl-admin';

// Certificates are made before the harness starts (beforeAll below); the harness needs their paths.
const root = mkdtempSync(join(tmpdir(), 'vita-repl-tls-'));
const ca = join(root, 'ca');
const other = join(root, 'other-ca');

/** repl-admin over servers that take TLS only, replicating over verified TLS. */
describe('repl-admin and replication over verified TLS', () => {
  let h: ReplAdminHarness;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  beforeAll(async () => {
    await initCa({ dir: ca });
    await initCa({ dir: other });
    const caFile = caPaths(ca).crt;
    const server = async (name: string) => {
      const pair = await issueHostCert({ dir: ca, name, ips: ['127.0.0.1'] });
      return { ca: caFile, cert: pair.crt, key: pair.key, requireSecureTransport: true };
    };
    h = await startReplAdmin(
      { REPL_TLS_CA: caFile, REPL_AUTO_GRACE_SECONDS: '1' },
      { primary: await server('primary'), replicas: [await server('replica1'), await server('replica2')], replicationCa: caFile, requireSsl: 'SSL' },
    );
  });
  afterAll(async () => {
    await h?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('watches every server over TLS: all OK, heartbeats replicate', async () => {
    const t = await h.topology();
    expect(t.primary).toMatchObject({ reachable: true, heartbeat: { error: null } });
    for (const r of t.replicas) expect(r).toMatchObject({ state: 'OK', reachable: true });
  });

  it('a replica given another CA: TLS_ERROR with a specific cause, and automation leaves it alone', async () => {
    const replica = h.t.replicas[0];
    await replica.query('STOP SLAVE');
    await replica.query('CHANGE MASTER TO MASTER_SSL_CA = ?', [caPaths(other).crt]);
    await replica.query('START SLAVE');
    const r = await h.until('replica1 TLS_ERROR', (t) => t.replicas.find((x) => x.name === 'replica1' && x.state === 'TLS_ERROR'));
    expect(r.error).toMatchObject({ thread: 'io', errno: 2026 });
    expect(r.cause).toMatch(/^replication TLS failed: the replica does not trust the primary's certificate \(not signed by the CA in its MASTER_SSL_CA, or expired\)/);
    expect(r.nextStep).toMatch(/a restart cannot fix a certificate$/);
    // Well past the grace and backoff: no automatic restart of a TLS failure.
    await sleep(4000);
    expect((await h.replica('replica1')).state).toBe('TLS_ERROR');
    expect(await h.autoActions('replica1')).toEqual([]);
    const page = await fetch(`${h.url}/`).then((x) => x.text());
    expect(page).toContain('replication TLS failed');
    for (const s of h.secrets) expect(JSON.stringify(r) + page).not.toContain(s);

    await replica.query('STOP SLAVE');
    await replica.query('CHANGE MASTER TO MASTER_SSL_CA = ?', [caPaths(ca).crt]);
    await replica.query('START SLAVE');
    await h.until('replica1 OK again', (t) => t.replicas.find((x) => x.name === 'replica1' && x.state === 'OK'));
  });

  it("a primary certificate for another host: replication fails the host-name check, and repl-admin's own connection says so", async () => {
    // FLUSH SSL: the primary loads the re-issued certificate without a restart; the replicas reconnect.
    await issueHostCert({ dir: ca, name: 'primary', ips: ['127.0.0.2'] });
    await h.t.primary.query('FLUSH SSL');
    for (const r of h.t.replicas) {
      await r.query('STOP SLAVE IO_THREAD');
      await r.query('START SLAVE IO_THREAD');
    }
    const t = await h.until('both replicas TLS_ERROR and the primary unverified', (x) =>
      x.replicas.every((r) => r.state === 'TLS_ERROR') && /TLS verification failed/.test(x.primary.unreachableReason ?? '') && x,
    );
    expect(t.primary.reachable).toBe(false);
    expect(t.primary.unreachableReason).toMatch(
      /^cannot connect to primary \(127\.0\.0\.1:\d+\) as the monitor user: TLS verification failed: the server's certificate does not name the host connected to \(.*127\.0\.0\.2\)$/,
    );
    for (const r of t.replicas) {
      expect(r.cause).toMatch(/^replication TLS failed: the primary's certificate does not name the host the replica connects to \(MASTER_HOST 127\.0\.0\.1\): SSL connection error: SSL certificate validation failure$/);
    }
    expect(await h.autoActions()).toEqual([]);
    for (const s of h.secrets) expect(JSON.stringify(t)).not.toContain(s);

    // Rotation: re-issue the host certificate, reload it on that one server.
    await issueHostCert({ dir: ca, name: 'primary', ips: ['127.0.0.1'] });
    await h.t.primary.query('FLUSH SSL');
    await h.t.primary.query("INSERT INTO vita.probe VALUES (3, 'after rotation')");
    await h.until('all OK after rotation', (x) => x.primary.reachable && x.replicas.every((r) => r.state === 'OK') && x, 30_000);
    await h.t.waitForReplicas();
    for (const r of h.t.replicas) expect(await r.query('SELECT message FROM vita.probe WHERE id = 3')).toEqual([{ message: 'after rotation' }]);
  });

  it('REPL_TLS_CA must be a readable PEM file (one line naming it)', () => {
    expect(() => loadEnv(ReplAdminEnv, { ...h.env, REPL_TLS_CA: join(root, 'missing.crt') })).toThrow(
      /^invalid environment: REPL_TLS_CA must be a readable PEM file of CA certificates: the file does not exist$/,
    );
  });
});
