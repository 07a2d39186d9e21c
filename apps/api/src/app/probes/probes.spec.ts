import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createServer, Server } from 'node:net';
import { loadEnv } from '@vita/runtime';
import { ApiEnv } from '../config/env';
import { startApi } from '../../test/api-stack';

/** A port that refuses connections: a listener opened and closed again. */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('probes with no database reachable', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    const port = await closedPort();
    const env = loadEnv(ApiEnv, {
      LOG_LEVEL: 'silent',
      DB_READ_HOSTS: `replica@127.0.0.1:${port}`,
      DB_READ_USER: 'reader',
      DB_READ_PASSWORD: 'secret-read-password',
      DB_WRITE_HOST: `127.0.0.2:${port}`, // another loopback address: a replica is never the primary's server
      DB_WRITE_USER: 'writer',
      DB_WRITE_PASSWORD: 'secret-write-password',
      VITA_ADMIN_TOKEN: 'x'.repeat(32),
      DB_TIMEOUT_MS: '500',
    });
    app = await startApi(env);
  });
  afterAll(async () => app?.close());

  const get = (url: string) => app.inject({ method: 'GET', url, headers: { 'x-request-id': 'probe-test-1' } });

  it('testapi and /health/live answer without any database', async () => {
    const testapi = await get('/api/v1/testapi');
    expect(testapi.statusCode).toBe(200);
    expect(testapi.json()).toMatchObject({ status: 'ok', service: 'api' });
    expect(testapi.headers['x-request-id']).toBe('probe-test-1');
    expect((await get('/health/live')).statusCode).toBe(200);
  });

  it('testdb, the résumé and /health/ready answer 503 with the reason, never a password', async () => {
    const testdb = await get('/api/v1/testdb');
    expect(testdb.statusCode).toBe(503);
    expect(testdb.json().message).toMatch(/database probe failed/);
    const resume = await get('/api/v1/resume');
    expect(resume.statusCode).toBe(503);
    expect(resume.json().message).toBe('no read database is reachable');
    const ready = await get('/health/ready');
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks[0]).toMatchObject({ ok: false, error: 'no read database is reachable' });
    for (const res of [testdb, resume, ready]) expect(res.body).not.toMatch(/secret-(read|write)-password/);
  });

  it('a write while the primary is unreachable is a clear 503', async () => {
    const res = await app.inject({
      method: 'PUT',
      url: '/api/v1/resume',
      headers: { authorization: `Bearer ${'x'.repeat(32)}`, 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(res.statusCode).toBe(503);
    expect(res.json().message).toMatch(/primary database is unreachable/);
  });

  it('generates a request id when the caller sends none or a malformed one', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/testapi', headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
