import type { LoggerService } from '@nestjs/common';
import { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions, LogController } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import pino, { Logger } from 'pino';

interface WithHeaders {
  headers: IncomingHttpHeaders;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's x-request-id when it is well-formed, otherwise a new one. */
export function requestId(req: WithHeaders): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Fastify's genReqId: keeps a well-formed incoming x-request-id or makes one, and writes it back into
 * the request headers so every later reader (the access log, calls to other services) sees the same id.
 */
export function assignRequestId(req: WithHeaders): string {
  const id = requestId(req);
  req.headers['x-request-id'] = id;
  return id;
}

/** Header and field names whose values never reach a log line. */
export const REDACTED_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'token', 'password', '*.password', '*.token', 'data.*.password', 'data.*.token'];

/** A log destination: pino's, with the synchronous flush sonic-boom offers. */
export type LogDestination = pino.DestinationStream & { flushSync?: () => void };

/** Standard output, written asynchronously (sonic-boom). */
export const asyncStdout = (): LogDestination => pino.destination({ dest: 1, sync: false });

/** How long a line may wait in a BatchedDestination, and how much may wait. */
export interface BatchOptions {
  /** Default 100 ms. */
  maxDelayMs?: number;
  /** Characters; reaching it writes at once. Default 64 Ki. */
  maxPending?: number;
}

/**
 * Collects lines and hands them to `target` together: after at most `maxDelayMs`, or at once when
 * `maxPending` characters wait. A write per line costs a service writing a line per request dearly:
 * sonic-boom measures its whole pending buffer on every write, and each write to a file or pipe is
 * a round trip through libuv's thread pool. `flushSync` writes out what is pending (createLogger calls
 * it when the server closes and at exit); a process killed outright loses at most `maxDelayMs` of lines.
 * Opt-in: a service passes it to createLogger.
 */
export class BatchedDestination implements LogDestination {
  private pending: string[] = [];
  private pendingLength = 0;
  private timer?: NodeJS.Timeout;
  private readonly maxDelayMs: number;
  private readonly maxPending: number;

  constructor(
    private readonly target: LogDestination,
    options: BatchOptions = {},
  ) {
    this.maxDelayMs = options.maxDelayMs ?? 100;
    this.maxPending = options.maxPending ?? 64 * 1024;
  }

  write(line: string): void {
    this.pending.push(line);
    this.pendingLength += line.length;
    if (this.pendingLength >= this.maxPending) this.drain();
    else if (!this.timer) this.timer = setTimeout(this.drain, this.maxDelayMs).unref();
  }

  flushSync(): void {
    this.drain();
    this.target.flushSync?.();
  }

  private readonly drain = (): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingLength = 0;
    this.target.write(text);
  };
}

/**
 * The one structured JSON logger (pino) of a service. It writes to standard output asynchronously,
 * off the request path; `flush` writes out what is pending (called when the server closes and at exit).
 */
export function createLogger(service: string, level: string, destination: LogDestination = asyncStdout()): Logger & { flushPending(): void } {
  const logger = pino(
    { level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    destination,
  );
  return Object.assign(logger, { flushPending: flushOnExit(destination) });
}

/** Writes out what `destination` holds when the process exits; returns the flush, to call earlier too. */
export function flushOnExit(destination: LogDestination): () => void {
  const flush = () => {
    try {
      destination.flushSync?.();
    } catch {
      // not open yet, or already closed: nothing to write
    }
  };
  process.once('exit', flush);
  return flush;
}

/** Options of the access log (all optional: by default every request gets its line). */
export interface AccessLogOptions {
  /**
   * Fraction of successful requests (status below 400, no error) that get a line, from 0 to 1;
   * 4xx, 5xx and failed requests always do. Default 1: every request.
   */
  sample?: number;
}

/**
 * Fastify's request log lines for Vita's services: no "incoming request" line, and one access-log
 * line per request with method, path, status and time, at warn for 4xx and error for 5xx.
 */
class AccessLog extends LogController {
  private readonly sample: number;
  /** The service's logger without the redaction pass, for lines that cannot hold a secret. */
  private readonly unredacted: Logger;

  constructor(logger: Logger, options: AccessLogOptions) {
    super({ requestIdLogLabel: 'requestId' });
    const sample = options.sample ?? 1;
    if (!(sample >= 0 && sample <= 1)) throw new RangeError(`access log sample must be between 0 and 1, got ${sample}`);
    this.sample = sample;
    this.unredacted = logger.child({}, { redact: [] });
  }

  override incomingRequest(): void {
    // One line per request is enough: it is written when the request completes.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    if (!error && status < 400 && this.sample < 1 && Math.random() >= this.sample) return;
    const level = error || status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    const line = { method: request.method, url: request.url, status, ms: Math.round(reply.elapsedTime * 10) / 10 };
    if (error) {
      // An error may carry anything: it goes through the request's logger, with redaction.
      request.log[level]({ ...line, err: error }, 'request');
      return;
    }
    // These fields are all there is, and none is a secret: the line skips the redaction pass (which
    // costs more than the rest of the line) and reads exactly as through the request's logger.
    this.unredacted[level]({ requestId: request.id, ...line }, 'request');
  }
}

/** Fastify options for Vita's services: this logger, request ids kept or made, the access log. */
export function fastifyLogging(logger: Logger, accessLog: AccessLogOptions = {}): Pick<FastifyServerOptions, 'loggerInstance' | 'logController' | 'genReqId'> {
  return { loggerInstance: logger, logController: new AccessLog(logger, accessLog), genReqId: assignRequestId };
}

/** Echoes the request id to the caller on every response, and flushes the log when the server closes. */
export function installRequestLogging(app: FastifyInstance, logger: { flushPending(): void }): void {
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    logger.flushPending();
    done();
  });
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** NestJS's logger interface on top of the service's pino logger, so framework and app logs share one stream. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: Level, message: unknown, rest: unknown[]): void {
    const last = rest[rest.length - 1];
    const context = typeof last === 'string' ? last : undefined;
    const stack = rest.find((r): r is string => typeof r === 'string' && r !== context && r.includes('\n    at '));
    if (message instanceof Error) this.logger[level]({ context, err: message });
    // Objects become fields, so redaction applies to them.
    else if (typeof message === 'object' && message !== null) this.logger[level]({ context, data: message });
    else this.logger[level]({ context, ...(stack ? { stack } : {}) }, String(message));
  }
}
