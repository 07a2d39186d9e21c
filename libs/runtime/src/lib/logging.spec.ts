import Fastify from 'fastify';
import { execFileSync, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AccessLogOptions, BatchedDestination, createLogger, fastifyLogging, installRequestLogging, PinoNestLogger } from '../index';

/** Polls `check` every 20 ms until it holds; fails after 5 s. */
async function waitUntil(check: () => boolean): Promise<void> {
  for (const until = Date.now() + 5000; !check(); ) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

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
    // A token sent in the query by mistake is not logged either (the request is refused, and logged).
    await app.inject({ method: 'GET', url: '/stats?token=s3cr3t-token&view=full&api%5Fkey=s3cr3t-token' });
    await app.close();

    expect(res.headers['x-request-id']).toBe('req-42');
    const access = lines.filter((l) => l['msg'] === 'request');
    expect(access).toHaveLength(3);
    expect(access[2]).toMatchObject({ url: '/stats?token=[redacted]&view=full&api%5Fkey=[redacted]', status: 404 });
    expect(access[0]).toMatchObject({ service: 'test', requestId: 'req-42', method: 'GET', url: '/ok', status: 200, level: 30 });
    expect(typeof access[0]['ms']).toBe('number');
    expect(access[1]).toMatchObject({ url: '/missing', status: 404, level: 40, requestId: missing.headers['x-request-id'] });
    expect(JSON.stringify(lines)).not.toContain('s3cr3t-token');
  });

  /** A server with the access log, answering 200 on /ok, 404 elsewhere and 500 on /boom (an error carrying a password). */
  async function serve(options: AccessLogOptions, requests: string[]) {
    const { lines, logger } = capture();
    const app = Fastify(fastifyLogging(logger, options));
    app.get('/ok', async () => ({ ok: true }));
    app.get('/boom', async () => {
      throw Object.assign(new Error('boom'), { password: 'hunter2' });
    });
    await app.ready();
    for (const url of requests) await app.inject({ method: 'GET', url, headers: { 'x-request-id': `id-${url.slice(1)}` } });
    await app.close();
    return { access: lines.filter((l) => l['msg'] === 'request'), lines };
  }

  it('writes an access line field for field as before: same fields, same order', async () => {
    const [line] = (await serve({}, ['/ok'])).access;
    expect(Object.keys(line)).toEqual(['level', 'time', 'service', 'requestId', 'method', 'url', 'status', 'ms', 'msg']);
    expect(line).toMatchObject({ level: 30, service: 'test', requestId: 'id-ok', method: 'GET', url: '/ok', status: 200 });
  });

  it('logs a failed request at error, and redacts what its error carries', async () => {
    const { access, lines } = await serve({}, ['/boom']);
    expect(access).toEqual([expect.objectContaining({ level: 50, requestId: 'id-boom', status: 500 })]);
    expect(lines.find((l) => l['err'])).toMatchObject({ requestId: 'id-boom', err: { message: 'boom', password: '[redacted]' } });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('with a sample, logs that share of successful requests, and every 4xx and 5xx', async () => {
    const { access: none } = await serve({ sample: 0 }, ['/ok', '/ok', '/missing', '/boom', '/ok']);
    expect(none.map((l) => [l['url'], l['status']])).toEqual([
      ['/missing', 404],
      ['/boom', 500],
    ]);
    const { access: all } = await serve({ sample: 1 }, ['/ok', '/ok', '/missing']);
    expect(all).toHaveLength(3);
    const { access: some } = await serve({ sample: 0.5 }, Array.from({ length: 400 }, () => '/ok'));
    expect(some.length).toBeGreaterThan(100);
    expect(some.length).toBeLessThan(300);
    expect(() => fastifyLogging(capture().logger, { sample: 1.5 })).toThrow(/between 0 and 1/);
    expect(() => fastifyLogging(capture().logger, { sample: Number.NaN })).toThrow(/between 0 and 1/);
  });

  it('batches lines: written together after the delay, or at once when enough wait; flushSync writes what is pending', async () => {
    const writes: string[] = [];
    let flushed = 0;
    const batched = new BatchedDestination({ write: (text: string) => void writes.push(text), flushSync: () => void flushed++ }, { maxDelayMs: 30, maxPending: 8 });
    batched.write('a\n');
    batched.write('b\n');
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(writes).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(writes).toEqual(['a\nb\n']);
    batched.write('cccc\n');
    batched.write('dddd\n');
    expect(writes).toEqual(['a\nb\n', 'cccc\ndddd\n']);
    batched.write('e\n');
    batched.flushSync();
    expect(writes).toEqual(['a\nb\n', 'cccc\ndddd\n', 'e\n']);
    expect(flushed).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(writes).toHaveLength(3);

    const lines: string[] = [];
    const logger = createLogger('test', 'info', new BatchedDestination({ write: (text: string) => void lines.push(text) }));
    logger.info('one');
    logger.info('two');
    expect(lines).toEqual([]);
    logger.flushPending();
    expect(lines).toHaveLength(1);
    expect(lines[0].trim().split('\n').map((l) => JSON.parse(l).msg)).toEqual(['one', 'two']);
  });

  it('holds back while the target is not keeping up, drops and counts past the bound, and says so when it catches up', async () => {
    const writes: string[] = [];
    // Like sonic-boom: false past its high-water mark, 'drain' whenever it has written out what it was given.
    const target = Object.assign(new EventEmitter(), {
      full: true,
      write: (text: string) => {
        writes.push(text);
        if (!target.full) setImmediate(() => target.emit('drain'));
        return !target.full;
      },
    });
    const batched = new BatchedDestination(target, { maxDelayMs: 5, maxPending: 20, maxBuffered: 30, droppedNotice: (n) => `[${n} dropped]\n` });
    batched.write('line-0001\n');
    batched.write('line-0002\n'); // 20 characters: written at once; the target says it is full
    expect(writes).toEqual(['line-0001\nline-0002\n']);
    for (let i = 3; i <= 10; i++) batched.write(`line-${String(i).padStart(4, '0')}\n`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // Nothing more is handed over until 'drain'; 3 lines (30 characters) are held, 5 dropped.
    expect(writes).toHaveLength(1);
    expect(batched.dropped).toBe(5);
    target.full = false;
    target.emit('drain');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(writes[1]).toBe('line-0003\nline-0004\nline-0005\n[5 dropped]\n');
    batched.write('line-0011\n');
    batched.flushSync();
    expect(writes[2]).toBe('line-0011\n');
    expect(batched.dropped).toBe(5);

    // At exit with the target stuck: what is held is dropped, no synchronous write that could hang.
    target.full = true;
    batched.write('line-0012\nline-0013\n');
    batched.write('line-0014\n');
    const flushes = jest.fn();
    Object.assign(target, { flushSync: flushes });
    batched.flushSync();
    expect(writes).toHaveLength(4);
    expect(flushes).not.toHaveBeenCalled();
    expect(batched.dropped).toBe(6);
  });

  it('keeps memory bounded in front of a pipe nobody reads (sonic-boom), and writes on once it is read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vita-log-'));
    const fifo = join(dir, 'slow');
    execFileSync('mkfifo', [fifo]);
    // A reader that holds the pipe open without reading, until told to read.
    const reader = spawn('bash', ['-c', `exec 3<"${fifo}"; read -r _; cat <&3 >/dev/null`], { stdio: ['pipe', 'ignore', 'inherit'] });
    try {
      const batched = new BatchedDestination(pino.destination({ dest: fifo, sync: false }), { maxBuffered: 256 * 1024 });
      const line = `${'x'.repeat(199)}\n`;
      for (let i = 0; i < 20_000; i++) {
        batched.write(line); // 4 MB in all, against a 64 KiB pipe and a 256 KiB bound
        if (i % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(batched.dropped).toBeGreaterThan(15_000);
      reader.stdin?.write('go\n');
      // Read again: lines are taken again.
      await waitUntil(() => {
        const before = batched.dropped;
        batched.write(line);
        return batched.dropped === before;
      });
    } finally {
      reader.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
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
