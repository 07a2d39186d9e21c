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

/**
 * The one structured JSON logger (pino) of a service. It writes to standard output asynchronously,
 * off the request path; `flush` writes out what is pending (called when the server closes and at exit).
 */
export function createLogger(
  service: string,
  level: string,
  destination: pino.DestinationStream & { flushSync?: () => void } = pino.destination({ dest: 1, sync: false }),
): Logger & { flushPending(): void } {
  const logger = pino(
    { level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    destination,
  );
  const flushPending = () => {
    try {
      destination.flushSync?.();
    } catch {
      // not open yet, or already closed: nothing to write
    }
  };
  process.once('exit', flushPending);
  return Object.assign(logger, { flushPending });
}

/**
 * Fastify's request log lines for Vita's services: no "incoming request" line, and one access-log
 * line per request with method, path, status and time, at warn for 4xx and error for 5xx.
 */
class AccessLog extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'requestId' });
  }

  override incomingRequest(): void {
    // One line per request is enough: it is written when the request completes.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    const level = error || status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
    const line = { method: request.method, url: request.url, status, ms: Math.round(reply.elapsedTime * 10) / 10 };
    request.log[level](error ? { ...line, err: error } : line, 'request');
  }
}

/** Fastify options for Vita's services: this logger, request ids kept or made, the access log. */
export function fastifyLogging(logger: Logger): Pick<FastifyServerOptions, 'loggerInstance' | 'logController' | 'genReqId'> {
  return { loggerInstance: logger, logController: new AccessLog(), genReqId: assignRequestId };
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
