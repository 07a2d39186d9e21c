import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ActionRecordDto, ReplicaStatusDto, TopologyDto } from '@vita/contracts';
import { type MariaServer, waitFor } from '@vita/mariadb';
import { freePort, startTopology, type TestTopology, type TopologyTls } from '@vita/testing';
import { createConnection } from 'mariadb';
import { initCa } from '@vita/sites';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AlertPayload } from '../app/alerts/alert.service';
import { createReplAdmin } from '../app/bootstrap';
import { loadConfig } from '../app/config/config';
import { provisionStatements } from '../app/provision/provision';

/** A running repl-admin over a real primary and two replicas, with its alert webhook captured. */
export interface ReplAdminHarness {
  t: TestTopology;
  app: NestFastifyApplication;
  url: string;
  token: string;
  env: Record<string, string>;
  /** Secrets the tests check never show up anywhere. */
  secrets: string[];
  /** Every alert posted to the webhook, in order. */
  alerts: AlertPayload[];
  topology(): Promise<TopologyDto>;
  replica(name: string): Promise<ReplicaStatusDto>;
  /** Polls the topology (bounded) until `pick` returns a value. */
  until<T>(what: string, pick: (t: TopologyDto) => T | undefined | false | null, timeoutMs?: number): Promise<T>;
  /** POSTs JSON with the admin token (or the given authorization). */
  post(path: string, body?: unknown, authorization?: string | null): Promise<{ status: number; body: ActionRecordDto & Record<string, unknown> }>;
  /** Audit records of automatic actions. */
  autoActions(replica?: string): Promise<ActionRecordDto[]>;
  close(): Promise<void>;
}

const secret = () => randomBytes(18).toString('base64url');

/** Vita's schema in miniature: the tables the drift check and a rebuild handle (JSON, dates, NULLs, binary). */
const VITA_SCHEMA = [
  'CREATE DATABASE vita CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci',
  'CREATE TABLE vita.schema_migrations (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, run_at DATETIME(3) NOT NULL)',
  "INSERT INTO vita.schema_migrations VALUES (1, 'InitialSchema', '2026-11-25 10:00:00.123')",
  'CREATE TABLE vita.resume_basics (seq INT UNSIGNED PRIMARY KEY, name MEDIUMTEXT NULL, location LONGTEXT NULL CHECK (location IS NULL OR JSON_VALID(location)), photo VARBINARY(16) NULL)',
  `INSERT INTO vita.resume_basics VALUES (0, 'Ada Lovelace', '{"city": "London",  "countryCode": "GB"}', X'00FF10'), (1, NULL, NULL, NULL)`,
  'CREATE TABLE vita.probe (id TINYINT UNSIGNED NOT NULL PRIMARY KEY, message VARCHAR(100) NOT NULL)',
  "INSERT INTO vita.probe VALUES (1, 'vita database probe')",
];

/**
 * `overrides` may be computed from the servers' addresses (`host:port` each); `tls`: the servers'
 * certificates (pass REPL_TLS_CA in `overrides` for repl-admin to verify them).
 */
export async function startReplAdmin(
  overrides: Record<string, string> | ((at: { primary: string; replica1: string; replica2: string }) => Record<string, string>) = {},
  tls?: TopologyTls,
): Promise<ReplAdminHarness> {
  const t = await startTopology({ replicas: 2, tls });
  const alerts: AlertPayload[] = [];
  let webhook: Server | undefined;
  let app: NestFastifyApplication | undefined;
  try {
    const [primary, replica1, replica2] = [t.primary, ...t.replicas];
    const pw = { monitor: secret(), admin: secret(), replication: secret(), token: secret() };
    for (const sql of VITA_SCHEMA) await primary.query(sql);
    for (const s of provisionStatements({
      dataSchema: 'vita',
      heartbeatSchema: 'repl_admin',
      userHost: '%',
      monitor: { user: 'repl_monitor', password: pw.monitor },
      admin: { user: 'repl_admin', password: pw.admin },
    })) {
      await primary.query(s.sql, s.params);
    }
    await primary.query("CREATE USER repl_rebuild@'%' IDENTIFIED BY ?", [pw.replication]);
    await primary.query("GRANT REPLICATION SLAVE ON *.* TO repl_rebuild@'%'");
    await t.waitForReplicas();

    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        alerts.push(JSON.parse(body) as AlertPayload);
        res.writeHead(204).end();
      });
    });
    const hookPort = await freePort();
    await new Promise<void>((r) => webhook?.listen(hookPort, '127.0.0.1', r));

    const at = (s: MariaServer) => `127.0.0.1:${s.port}`;
    const env: Record<string, string> = {
      LOG_LEVEL: process.env['REPL_TEST_LOG_LEVEL'] ?? 'silent',
      REPL_SERVERS: `primary=${at(primary)},replica1=${at(replica1)}@node-a,replica2=${at(replica2)}@node-b`,
      REPL_MONITOR_USER: 'repl_monitor',
      REPL_MONITOR_PASSWORD: pw.monitor,
      REPL_ADMIN_USER: 'repl_admin',
      REPL_ADMIN_PASSWORD: pw.admin,
      REPL_ADMIN_TOKEN: pw.token,
      REPL_REPLICATION_USER: 'repl_rebuild',
      REPL_REPLICATION_PASSWORD: pw.replication,
      REPL_POLL_INTERVAL_MS: '250',
      // Tests read right after changing something: a fresh read gets a check that started after it.
      REPL_FRESH_MIN_INTERVAL_MS: '0',
      REPL_HEARTBEAT_INTERVAL_MS: '500',
      REPL_QUERY_TIMEOUT_MS: '1000',
      REPL_ACTION_TIMEOUT_MS: '30000',
      REPL_LAG_WARN_SECONDS: '2',
      REPL_AUTO_BACKOFF_SECONDS: '1',
      REPL_AUTO_CONFIRM_SECONDS: '2',
      REPL_AUTO_GRACE_SECONDS: '2',
      REPL_ALERT_AFTER_SECONDS: '0',
      REPL_ALERT_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/hook?key=${pw.token}`,
      ...(typeof overrides === 'function' ? overrides({ primary: at(primary), replica1: at(replica1), replica2: at(replica2) }) : overrides),
    };
    app = await createReplAdmin(loadConfig(env));
    await app.listen(0, '127.0.0.1');
    const url = await app.getUrl();
    const running = app;

    const getJson = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(15_000) });
      if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
      return (await res.json()) as T;
    };
    const topology = () => getJson<TopologyDto>('/api/v1/topology?fresh=1');
    let last: TopologyDto | undefined;
    const harness: ReplAdminHarness = {
      t,
      app: running,
      url,
      token: pw.token,
      env,
      secrets: [pw.monitor, pw.admin, pw.replication, pw.token],
      alerts,
      topology,
      replica: (name) => getJson<ReplicaStatusDto>(`/api/v1/replicas/${name}?fresh=1`),
      until: async (what, pick, timeoutMs = 20_000) => {
        // Only checks that started after this call count (a fresh check first, then the ones after it).
        let floor = 0;
        return waitFor(
          async () => {
            // 503 until the first check completes.
            const res = await fetch(`${url}/api/v1/topology${floor ? '' : '?fresh=1'}`, { signal: AbortSignal.timeout(15_000) });
            if (res.status === 503) return undefined;
            last = (await res.json()) as TopologyDto;
            floor ||= Date.parse(last.checkedAt);
            return (Date.parse(last.checkedAt) >= floor && pick(last)) || undefined;
          },
          timeoutMs,
          () => new Error(`${what}: not seen within ${timeoutMs} ms; last check: ${JSON.stringify(last?.replicas.map((r) => [r.name, r.state, r.error?.errno, r.heartbeatLagSeconds, r.secondsBehindMaster]))}`),
          100,
        );
      },
      post: async (path, body = undefined, authorization = `Bearer ${pw.token}`) => {
        const res = await fetch(`${url}${path}`, {
          method: 'POST',
          headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(authorization ? { authorization } : {}) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(60_000),
        });
        return { status: res.status, body: (await res.json()) as ActionRecordDto & Record<string, unknown> };
      },
      autoActions: async (replica) => (await getJson<ActionRecordDto[]>(`/api/v1/audit${replica ? `?replica=${replica}` : ''}`)).filter((a) => a.mode === 'auto'),
      close: async () => {
        await running.close();
        await new Promise((r) => webhook?.close(r));
        await t.close();
      },
    };
    await harness.until('every replica OK at start', (x) => x.replicas.every((r) => r.state === 'OK' && r.heartbeatLagSeconds !== null));
    return harness;
  } catch (err) {
    await app?.close().catch(() => undefined);
    webhook?.close();
    await t.close();
    throw err;
  }
}

/** A write on a replica that leaves no GTID behind (sql_log_bin is per session: one connection). */
export async function withoutBinlog(server: MariaServer, sql: string): Promise<void> {
  const conn = await createConnection({ socketPath: server.socketPath, user: 'root' });
  try {
    await conn.query('SET SESSION sql_log_bin = 0');
    await conn.query(sql);
  } finally {
    await conn.end();
  }
}

/** A warehouse that lets nodes join: repl-admin over replica1 only (replica2 plays the new node), with a CA, site secrets and a join secret. */
export interface JoinWarehouse {
  h: ReplAdminHarness;
  /** The folder holding `ca/` and `secrets.env`. */
  dir: string;
  joinSecret: string;
  siteSecrets: Record<string, string>;
  close(): Promise<void>;
}

export async function startJoinWarehouse(secretNames: readonly string[]): Promise<JoinWarehouse> {
  const dir = mkdtempSync(join(tmpdir(), 'vita-join-'));
  const joinSecret = randomBytes(32).toString('base64url');
  const siteSecrets = Object.fromEntries(secretNames.map((n) => [n, `${n.toLowerCase()}-${randomBytes(6).toString('hex')}`]));
  try {
    await initCa({ dir: join(dir, 'ca') });
    writeFileSync(join(dir, 'secrets.env'), Object.entries(siteSecrets).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
    const h = await startReplAdmin((at) => ({
      REPL_SERVERS: `primary=${at.primary},replica1=${at.replica1}@node-a`,
      REPL_JOIN_SECRET: joinSecret,
      REPL_CA_DIR: join(dir, 'ca'),
      REPL_SITE_SECRETS_FILE: join(dir, 'secrets.env'),
      REPL_SITES_INTERVAL_MS: '200',
    }));
    return { h, dir, joinSecret, siteSecrets, close: async () => { await h.close(); rmSync(dir, { recursive: true, force: true }); } };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
