import { Injectable, LoggerService, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { HealthIndicator, HealthModule, HealthModuleOptions, HealthService, SHUTDOWN_CHECK } from '../index';

/** Every line the application logs, by level. */
class CapturedLogs implements LoggerService {
  readonly lines: { level: string; message: string; rest: unknown[] }[] = [];
  log(message: unknown, ...rest: unknown[]): void {
    this.lines.push({ level: 'log', message: String(message), rest });
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.lines.push({ level: 'error', message: String(message), rest });
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.lines.push({ level: 'warn', message: String(message), rest });
  }
}

@Injectable()
class Dependency {
  up = true;
}

@Module({ providers: [Dependency], exports: [Dependency] })
class DependencyModule {}

describe('HealthModule', () => {
  let app: NestFastifyApplication | undefined;
  let logs: CapturedLogs;
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

  async function boot(module: ReturnType<typeof HealthModule.forRoot>): Promise<NestFastifyApplication> {
    const ref = await Test.createTestingModule({ imports: [module] }).compile();
    logs = new CapturedLogs();
    app = ref.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: logs });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return app;
  }

  const bootWith = (indicators: HealthIndicator[], timeoutMs = 100) => boot(HealthModule.forRoot({ indicators, timeoutMs }));
  const get = (url: string) => (app as NestFastifyApplication).inject({ method: 'GET', url });

  beforeEach(() => {
    state.dbUp = true;
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('live answers 200 without running any indicator', async () => {
    await bootWith([throwing]);
    const res = await get('/health/live');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok', checks: [] });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('ready is 200 with details while every indicator passes, 503 when one fails', async () => {
    await bootWith([db]);
    let res = await get('/health/ready');
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ status: 'ok', checks: [{ name: 'database', ok: true, durationMs: expect.any(Number), detail: { host: 'db1' } }] });

    state.dbUp = false;
    res = await get('/health/ready');
    expect(res.statusCode).toBe(503);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({ status: 'fail', checks: [{ name: 'database', ok: false, durationMs: expect.any(Number), error: 'refused' }] });
  });

  it("terminus's 503 keeps every check in the configured order, passing ones with their details", async () => {
    const cache: HealthIndicator = { name: 'cache', check: async () => ({ ok: true, detail: { entries: 3 } }) };
    await bootWith([throwing, cache, db]);
    state.dbUp = false;
    const res = await get('/health/ready');
    expect(res.statusCode).toBe(503);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['status', 'checks']);
    expect(body.status).toBe('fail');
    expect(body.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
      ['thrower', false],
      ['cache', true],
      ['database', false],
    ]);
    expect(body.checks[1]).toEqual({ name: 'cache', ok: true, durationMs: expect.any(Number), detail: { entries: 3 } });
  });

  it('a hanging or throwing indicator fails readiness with its reason instead of hanging', async () => {
    await bootWith([slow, throwing]);
    const started = Date.now();
    const res = await get('/health/ready');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.statusCode).toBe(503);
    const checks = res.json().checks;
    expect(checks[0]).toMatchObject({ name: 'slow', ok: false, error: 'no answer within 100 ms' });
    expect(checks[0].durationMs).toBeGreaterThanOrEqual(90);
    expect(checks[1]).toMatchObject({ name: 'thrower', ok: false, error: 'boom' });
  });

  it('tells a hung indicator to stop through its signal when the timeout passes', async () => {
    const signals: AbortSignal[] = [];
    const hung: HealthIndicator = {
      name: 'hung',
      check: (signal) => {
        signals.push(signal);
        return new Promise(() => undefined);
      },
    };
    await bootWith([hung], 50);
    const res = await get('/health/ready');
    expect(res.statusCode).toBe(503);
    expect(signals).toHaveLength(1);
    expect(signals[0].aborted).toBe(true);
  });

  it('logs one line when readiness changes, with the failing checks, and nothing per probe', async () => {
    await bootWith([db, throwing]);
    for (let i = 0; i < 3; i++) expect((await get('/health/ready')).statusCode).toBe(503);
    const health = () => logs.lines.filter((l) => l.rest.includes('Health') || /Health ?Check/i.test(l.message));
    expect(health()).toEqual([{ level: 'warn', message: 'not ready: thrower: boom', rest: ['Health'] }]);

    state.dbUp = false;
    await get('/health/ready');
    expect(health()).toHaveLength(1);
    expect(logs.lines.filter((l) => l.level === 'error')).toEqual([]);
    expect(JSON.stringify(logs.lines)).not.toContain('    at ');
  });

  it('logs when readiness returns', async () => {
    const flaky: HealthIndicator = { name: 'database', check: async () => (state.dbUp ? { ok: true } : { ok: false, error: 'refused' }) };
    await bootWith([flaky]);
    await get('/health/ready');
    state.dbUp = false;
    await get('/health/ready');
    state.dbUp = true;
    await get('/health/ready');
    await get('/health/ready');
    expect(logs.lines.filter((l) => l.rest.includes('Health')).map((l) => [l.level, l.message])).toEqual([
      ['warn', 'not ready: database: refused'],
      ['log', 'ready again: every readiness check passes'],
    ]);
  });

  it('reports unready once the application has begun shutting down', async () => {
    const running = await bootWith([db]);
    const health = running.get(HealthService);
    expect((await health.ready()).status).toBe('ok');
    await running.close();
    app = undefined;
    expect(await health.ready()).toEqual({
      status: 'fail',
      checks: [
        { name: 'database', ok: true, durationMs: expect.any(Number), detail: { host: 'db1' } },
        { name: SHUTDOWN_CHECK, ok: false, durationMs: 0, error: 'the service is shutting down' },
      ],
    });
  });

  it('forRootAsync builds the indicators from injected providers', async () => {
    await boot(
      HealthModule.forRootAsync({
        imports: [DependencyModule],
        inject: [Dependency],
        useFactory: (dep: Dependency) => ({ indicators: [{ name: 'dependency', check: async () => ({ ok: dep.up }) }] }),
      }),
    );
    expect((await get('/health/ready')).statusCode).toBe(200);
    (app as NestFastifyApplication).get(Dependency).up = false;
    const res = await get('/health/ready');
    expect(res.statusCode).toBe(503);
    expect(res.json().checks).toEqual([{ name: 'dependency', ok: false, durationMs: expect.any(Number) }]);
  });

  it('refuses options it cannot honour, naming the field', async () => {
    const options = (o: Partial<HealthModuleOptions>): HealthModuleOptions => ({ indicators: [db], ...o });
    expect(() => HealthModule.forRoot(options({ indicators: [db, { ...db }] }))).toThrow('HealthModule: indicators[1].name "database" is used by another indicator');
    expect(() => HealthModule.forRoot(options({ indicators: [{ ...db, name: ' ' }] }))).toThrow('HealthModule: indicators[0].name must be a non-empty string');
    expect(() => HealthModule.forRoot(options({ indicators: [{ ...db, name: SHUTDOWN_CHECK }] }))).toThrow('HealthModule: indicators[0].name "shutdown" is reserved for the shutdown check');
    expect(() => HealthModule.forRoot(options({ timeoutMs: 0 }))).toThrow('HealthModule: timeoutMs must be a positive number of milliseconds, not 0');
    expect(() => HealthModule.forRoot(options({ timeoutMs: Number.NaN }))).toThrow('HealthModule: timeoutMs must be a positive number of milliseconds, not NaN');
    await expect(
      Test.createTestingModule({ imports: [HealthModule.forRootAsync({ useFactory: () => options({ timeoutMs: -5 }) })] }).compile(),
    ).rejects.toThrow('HealthModule: timeoutMs must be a positive number of milliseconds, not -5');
  });
});
