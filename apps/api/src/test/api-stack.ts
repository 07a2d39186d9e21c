import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MariaServer } from '@vita/mariadb';
import { startTopology, TestTopology, type TopologyTls } from '@vita/testing';
import { randomBytes } from 'node:crypto';
import { createApi } from '../app/bootstrap';
import { loadEnv } from '@vita/runtime';
import { ApiEnv } from '../app/config/env';
import { migrate } from '../app/db/migrate';
import { provisionStatements } from '../app/db/provision';

const secret = (): string => randomBytes(18).toString('base64url');

/** A primary and replicas provisioned and migrated exactly as `npm start` does it. */
export interface ApiDatabases {
  topology: TestTopology;
  logins: { reader: Login; writer: Login; migrator: Login };
  adminToken: string;
}
interface Login {
  user: string;
  password: string;
}

const address = (s: MariaServer): string => `${s.host}:${s.port}`;

/** `tls`: the servers' certificates, and `caFile`, the CA migrate (and the api, with DB_TLS_CA) verifies them with. */
export async function startApiDatabases(replicas = 2, tls?: TopologyTls & { caFile: string }): Promise<ApiDatabases> {
  const topology = await startTopology({ replicas, tls });
  try {
    const logins = {
      reader: { user: 'vita_reader', password: secret() },
      writer: { user: 'vita_writer', password: secret() },
      migrator: { user: 'vita_migrator', password: secret() },
    };
    for (const s of provisionStatements({ database: 'vita', userHost: '%', ...logins })) {
      await topology.primary.query(s.sql, s.params);
    }
    await migrate({
      DB_WRITE_HOST: address(topology.primary),
      DB_NAME: 'vita',
      DB_MIGRATE_USER: logins.migrator.user,
      DB_MIGRATE_PASSWORD: logins.migrator.password,
      ...(tls ? { DB_TLS_CA: tls.caFile } : {}),
    });
    await topology.waitForReplicas();
    return { topology, logins, adminToken: secret() };
  } catch (err) {
    await topology.close();
    throw err;
  }
}

/**
 * The api's environment for these databases: reads from `reads` in order (default: replicas, then
 * the primary), each with its role as the topology built it.
 */
export function apiEnv(dbs: ApiDatabases, overrides: Record<string, string> = {}, reads?: MariaServer[]): ApiEnv {
  const { topology, logins } = dbs;
  const order = reads ?? [...topology.replicas, topology.primary];
  return loadEnv(ApiEnv, {
    LOG_LEVEL: 'silent',
    DB_READ_HOSTS: order.map((s) => `${s === topology.primary ? 'primary' : 'replica'}@${address(s)}`).join(','),
    DB_READ_USER: logins.reader.user,
    DB_READ_PASSWORD: logins.reader.password,
    DB_WRITE_HOST: address(topology.primary),
    DB_WRITE_USER: logins.writer.user,
    DB_WRITE_PASSWORD: logins.writer.password,
    VITA_ADMIN_TOKEN: dbs.adminToken,
    DB_CHECK_INTERVAL_MS: '200',
    DB_TIMEOUT_MS: '1000',
    ...overrides,
  });
}

export async function startApi(env: ApiEnv): Promise<NestFastifyApplication> {
  const app = await createApi(env);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** Polls `probe` until it returns true, at most `timeoutMs`. */
export async function eventually(probe: () => Promise<boolean> | boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
