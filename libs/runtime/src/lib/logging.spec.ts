import Fastify from 'fastify';
import { createLogger, fastifyLogging, installRequestLogging, PinoNestLogger } from '../index';

describe('structured logs', () => {
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger('test', 'info', { write: (chunk: string) => void lines.push(JSON.parse(chunk)) });
    return { lines, logger };
  }

  it('writes one access line per request with the request id, status and time, never the credentials', async () => {
    const { lines, logger } = capture();
    const app = Fastify(fastifyLogging(logger));
    installRequestLogging(app, logger);
    app.get('/ok', async () => ({ ok: true }));
    await app.ready();
    const res = await app.inject({ method: 'GET', url: '/ok', headers: { 'x-request-id': 'req-42', authorization: 'Bearer s3cr3t-token' } });
    const missing = await app.inject({ method: 'GET', url: '/missing' });
    await app.close();

    expect(res.headers['x-request-id']).toBe('req-42');
    const access = lines.filter((l) => l['msg'] === 'request');
    expect(access).toHaveLength(2);
    expect(access[0]).toMatchObject({ service: 'test', requestId: 'req-42', method: 'GET', url: '/ok', status: 200, level: 30 });
    expect(typeof access[0]['ms']).toBe('number');
    expect(access[1]).toMatchObject({ url: '/missing', status: 404, level: 40, requestId: missing.headers['x-request-id'] });
    expect(JSON.stringify(lines)).not.toContain('s3cr3t-token');
  });

  it('carries Nest framework logs with their context into the same stream', () => {
    const { lines, logger } = capture();
    const nest = new PinoNestLogger(logger);
    nest.log('started', 'Bootstrap');
    nest.error(new Error('boom'), 'Db');
    nest.warn({ password: 'hunter2', note: 'x' }, 'Config');
    expect(lines[0]).toMatchObject({ msg: 'started', context: 'Bootstrap', level: 30 });
    expect(lines[1]).toMatchObject({ context: 'Db', level: 50, err: { message: 'boom' } });
    expect(lines[2]).toMatchObject({ context: 'Config', level: 40, data: { note: 'x' } });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });
});
