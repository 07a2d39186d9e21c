import { Test } from '@nestjs/testing';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { HealthIndicator, HealthModule } from '../index';

describe('HealthModule', () => {
  let app: NestFastifyApplication;
  const state = { dbUp: true };
  const db: HealthIndicator = {
    name: 'database',
    check: async () => (state.dbUp ? { ok: true, detail: { host: 'db1' } } : { ok: false, error: 'refused' }),
  };
  const slow: HealthIndicator = { name: 'slow', check: () => new Promise(() => undefined) };
  const throwing: HealthIndicator = {
    name: 'thrower',
    check: async () => {
      throw new Error('boom');
    },
  };

  async function boot(indicators: HealthIndicator[]): Promise<void> {
    const ref = await Test.createTestingModule({
      imports: [HealthModule.forRoot({ indicators, timeoutMs: 100 })],
    }).compile();
    app = ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  }

  afterEach(async () => app?.close());

  it('live answers 200 without running any indicator', async () => {
    await boot([throwing]);
    const res = await app.inject({ method: 'GET', url: '/health/live' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', checks: [] });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('ready is 200 with details while every indicator passes, 503 when one fails', async () => {
    await boot([db]);
    state.dbUp = true;
    let res = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json().checks[0]).toMatchObject({ name: 'database', ok: true, detail: { host: 'db1' } });

    state.dbUp = false;
    res = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ status: 'fail', checks: [{ name: 'database', ok: false, error: 'refused' }] });
  });

  it('a hanging or throwing indicator fails readiness with its reason instead of hanging', async () => {
    await boot([slow, throwing]);
    const res = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(res.statusCode).toBe(503);
    const checks = res.json().checks;
    expect(checks[0]).toMatchObject({ name: 'slow', ok: false, error: 'no answer within 100 ms' });
    expect(checks[1]).toMatchObject({ name: 'thrower', ok: false, error: 'boom' });
  });
});
