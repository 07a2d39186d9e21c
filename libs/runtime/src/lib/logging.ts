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

/**
 * Standard output, written asynchronously (sonic-boom). A pipe or socket there is made non-blocking
 * first (Node does so when it sets up `process.stdout`): against a reader that stops reading, a
 * write then comes back at once to be retried, instead of holding a thread-pool thread for good,
 * which would also keep the process from exiting (Node waits for those threads at exit).
 */
export const asyncStdout = (): LogDestination => {
  void process.stdout;
  return pino.destination({ dest: 1, sync: false });
};

/** How long a line may wait in a BatchedDestination, how much may wait, and how much may be held back. */
export interface BatchOptions {
  /** Default 100 ms. */
  maxDelayMs?: number;
  /** Characters; reaching it writes at once. Default 64 Ki. */
  maxPending?: number;
  /**
   * Characters held while the target has not taken what it was given (a full pipe, a slow disk or
   * reader); past it, new lines are dropped and counted. Default 1 Mi (at least `maxPending`).
   */
  maxBuffered?: number;
  /** When writing resumes after drops: a line saying how many (in the log's own format), written in their place. */
  droppedNotice?: (lines: number) => string;
}

/** Characters a BatchedDestination holds back, by default, while its target is not keeping up. */
export const DEFAULT_MAX_BUFFERED = 1024 * 1024;

/**
 * A target that says when it is not keeping up (its write returns false) and when it has caught up
 * ('drain'). sonic-boom emits 'drain' whenever it has written out all it was given; a Node stream
 * (`writableLength`) only after a write returned false.
 */
interface Evented {
  once(event: 'drain', listener: () => void): unknown;
  /** Node streams: what is waiting to be written. */
  writableLength?: number;
  /** sonic-boom: its file descriptor (-1 until open). */
  fd?: number;
}
const evented = (target: object): target is Evented => typeof (target as Partial<Evented>).once === 'function';

/** Every BatchedDestination of the process (flushAll; destinations sharing a descriptor). */
const destinations = new Set<BatchedDestination>();

/**
 * Collects lines and hands them to `target` together: after at most `maxDelayMs`, or at once when
 * `maxPending` characters wait. A write per line costs a service writing a line per request dearly:
 * sonic-boom measures its whole pending buffer on every write, and each write to a file or pipe is
 * a round trip through libuv's thread pool. `flushSync` writes out what is pending (createLogger calls
 * it when the server closes and at exit); a process killed outright loses at most `maxDelayMs` of lines.
 *
 * Bounded: when the target says it is not keeping up (its `write` returns false, as sonic-boom's and
 * every Node stream's do past their high-water mark), nothing more is handed to it until it emits
 * 'drain'; meanwhile lines wait here up to `maxBuffered` characters and later ones are dropped and
 * counted in `dropped`. So a slow destination costs lines, never unbounded memory. And never a hung
 * exit: `flushSync` does not write synchronously while a write to the same descriptor is unfinished
 * (to a pipe nobody reads it would never return); `flushAll` first gives the writes a bounded time.
 * Opt-in: a service passes it to createLogger.
 */
export class BatchedDestination implements LogDestination {
  /** Lines dropped because the target was not keeping up, since the start. */
  dropped = 0;
  private pending: string[] = [];
  private pendingLength = 0;
  private timer?: NodeJS.Timeout;
  /** The target has not taken the last batch yet: nothing more is handed over until its 'drain'. */
  private blocked = false;
  /** A batch handed to a sonic-boom-like target has not been written out yet (its 'drain' is awaited). */
  private writing = false;
  private awaitingDrain = false;
  /** Given up on at exit (the target stuck): every line from now on is dropped. */
  private abandoned = false;
  private droppedSinceNotice = 0;
  private readonly maxDelayMs: number;
  private readonly maxPending: number;
  private readonly maxBuffered: number;
  private readonly droppedNotice?: (lines: number) => string;

  constructor(
    private readonly target: LogDestination,
    options: BatchOptions = {},
  ) {
    this.maxDelayMs = options.maxDelayMs ?? 100;
    this.maxPending = options.maxPending ?? 64 * 1024;
    this.maxBuffered = Math.max(this.maxPending, options.maxBuffered ?? DEFAULT_MAX_BUFFERED);
    this.droppedNotice = options.droppedNotice;
    destinations.add(this);
  }

  write(line: string): void {
    if (this.abandoned || this.pendingLength + line.length > this.maxBuffered) {
      this.dropped++;
      this.droppedSinceNotice++;
      return;
    }
    this.pending.push(line);
    this.pendingLength += line.length;
    if (this.blocked) return;
    if (this.pendingLength >= this.maxPending) this.drain();
    else if (!this.timer) this.timer = setTimeout(this.drain, this.maxDelayMs).unref();
  }

  /** Whether something handed to the target is not written out yet. */
  get busy(): boolean {
    const length = (this.target as Partial<Evented>).writableLength;
    return this.blocked || this.writing || (typeof length === 'number' && length > 0);
  }

  /** The target's file descriptor, when it has one. */
  get fd(): number | null {
    const fd = (this.target as Partial<Evented>).fd;
    return typeof fd === 'number' && fd >= 0 ? fd : null;
  }

  /**
   * Writes out what is held and has the target flush synchronously (at exit). While a write to the
   * same descriptor is unfinished, what is held is dropped instead: a synchronous write behind it
   * could block for good (a pipe nobody reads), and the process would never exit.
   */
  flushSync(): void {
    if (this.abandoned) return;
    if (this.stuck()) return this.abandon();
    this.drain();
    this.target.flushSync?.();
  }

  /** Something handed over to this target, or to another on the same descriptor, is not written out yet. */
  stuck(): boolean {
    const fd = this.fd;
    return this.busy || (fd !== null && [...destinations].some((d) => d !== this && d.fd === fd && d.busy));
  }

  /**
   * Gives up on the target (exiting, it is stuck): what is held is dropped, and so is every later
   * line; the target is destroyed, so that no exit hook of its own (pino's flushes sonic-boom
   * synchronously at exit) writes to it and blocks.
   */
  abandon(): void {
    this.abandoned = true;
    this.dropped += this.pending.length;
    this.pending = [];
    this.pendingLength = 0;
    clearTimeout(this.timer);
    try {
      (this.target as { destroy?: () => void }).destroy?.();
    } catch {
      // already closed
    }
  }

  /** Hands over what is held and waits (at most `timeoutMs`) until the target has written it; whether it has. */
  async flush(timeoutMs: number): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (this.abandoned) return false;
      if (!this.blocked) this.drain();
      if (!this.busy && this.pending.length === 0) return true;
      if (Date.now() >= until) return false;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  private readonly drained = (): void => {
    this.awaitingDrain = false;
    this.writing = false;
    this.blocked = false;
    if (this.pendingLength >= this.maxPending) this.drain();
    else if (this.pending.length > 0 && !this.timer) this.timer = setTimeout(this.drain, this.maxDelayMs).unref();
  };

  private readonly drain = (): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.abandoned || this.blocked || (this.pending.length === 0 && this.droppedSinceNotice === 0)) return;
    if (this.droppedSinceNotice > 0 && this.droppedNotice) this.pending.push(this.droppedNotice(this.droppedSinceNotice));
    this.droppedSinceNotice = 0;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingLength = 0;
    if (text.length === 0) return;
    const target = this.target;
    // pino's DestinationStream types write as void; sonic-boom and Node streams return false past their high-water mark.
    const taken = (target.write as (text: string) => unknown)(text);
    if (!evented(target)) return;
    const stream = typeof target.writableLength === 'number';
    if (taken === false) this.blocked = true;
    if (!stream) this.writing = true;
    if ((taken === false || !stream) && !this.awaitingDrain) {
      this.awaitingDrain = true;
      target.once('drain', this.drained);
    }
  };
}

/**
 * Before exiting: gives every BatchedDestination of the process up to `timeoutMs` to write out what
 * it holds, then abandons those still stuck (and those sharing a descriptor with them), so that no
 * synchronous flush at exit blocks on them. Whether everything was written.
 */
export async function flushAll(timeoutMs: number): Promise<boolean> {
  const done = await Promise.all([...destinations].map((d) => d.flush(timeoutMs)));
  for (const d of [...destinations].filter((d) => d.stuck())) d.abandon();
  return done.every(Boolean);
}

/**
 * The one structured JSON logger (pino) of a service. It writes to standard output asynchronously,
 * off the request path; `flush` writes out what is pending (called when the server closes and at exit).
 */
export function createLogger(service: string, level: string, destination: LogDestination = asyncStdout()): Logger & { flushPending(): void } {
  const logger = pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      // A message that quotes a URL (a framework's "Route GET:/x?token=… not found") loses its secret query values too.
      hooks: {
        logMethod(args, method) {
          for (let i = 0; i < args.length; i++) {
            const a: unknown = args[i];
            if (typeof a === 'string' && a.includes('?')) args[i] = a.replace(/\S*\?\S*/g, loggableUrl);
          }
          method.apply(this, args);
        },
      },
    },
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
  // Before the destinations' own exit hooks (pino's flushes sonic-boom synchronously): a stuck one is abandoned first.
  process.prependOnceListener('exit', flush);
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
    const line = { method: request.method, url: loggableUrl(request.url), status, ms: Math.round(reply.elapsedTime * 10) / 10 };
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

/** Query parameters whose values are never logged (a token sent in a URL by mistake, say). */
const SECRET_PARAM = /token|secret|pass|key|auth|sig|session|code|cred/i;

/** A request target as logged: the values of query parameters that look like secrets replaced. */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        // A malformed escape: judged as written.
      }
      return eq >= 0 && SECRET_PARAM.test(decoded) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return url.slice(0, q + 1) + query;
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
