import pino from 'pino';
import { asyncStdout, BatchedDestination, createLogger, DEFAULT_MAX_BUFFERED, flushOnExit } from '@vita/runtime';
import type { LbConfig } from './config/config';

/** lb's own logs in this process, for their dropped-line counts. */
const own: BatchedDestination[] = [];

/** Lines of lb's own log dropped in this process because standard output did not keep up. */
export const lbLogDropped = (): number => own.reduce((sum, d) => sum + d.dropped, 0);

/** A line in the shape of lb's others, saying how many lines were dropped where it stands. */
const droppedNotice =
  (what: string) =>
  (lines: number): string =>
    `{"level":40,"time":"${new Date().toISOString()}","service":"lb","dropped":${lines},"msg":"${lines} ${what} line(s) dropped here: the destination did not keep up"}\n`;

/**
 * lb's own log: state changes, reloads, rejected requests (JSON on standard output), batched and
 * bounded like the access log: a standard output nobody reads costs dropped lines, not memory.
 */
export function lbLogger(config: LbConfig) {
  const destination = new BatchedDestination(asyncStdout(), { maxBuffered: DEFAULT_MAX_BUFFERED, droppedNotice: droppedNotice('log') });
  own.push(destination);
  return createLogger('lb', config.logLevel, destination);
}

/** One access-log line's fields (see apps/lb/README.md). */
export interface AccessLine {
  rid: string;
  method: string;
  path: string;
  status: number;
  backend: string | null;
  attempts: number;
  ms: number;
  upstreamMs: number | null;
}

/** Where access-log lines go: one JSON object per line, in the shape of lb's other log lines. */
export interface AccessLog {
  write(line: AccessLine): void;
  /** Lines dropped because the destination did not keep up. */
  readonly dropped: number;
}

/** The ISO time of the current millisecond, made at most once per millisecond. */
let isoMs = 0;
let isoText = '';
function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/**
 * The access log, one JSON line per request (or a sample of them) written asynchronously, off the
 * request path, in batches (at most 100 ms late; flushed at exit): to standard output, to a file, or
 * nowhere. Lines hold only lb's own fields, so they are put together directly, in the same shape as
 * pino's (level, time, service, the fields, msg): a general logger's per-line work was about a sixth
 * of lb's CPU per request. While the destination does not keep up, up to `accessLog.maxBufferBytes`
 * wait; later lines are dropped and counted, and a line says how many where they would have been.
 */
export function accessLogger(config: LbConfig): AccessLog | null {
  const to = config.accessLog.to;
  if (to === 'off') return null;
  const destination = new BatchedDestination(to === 'stdout' ? asyncStdout() : pino.destination({ dest: to, sync: false, mkdir: true }), {
    maxBuffered: config.accessLog.maxBufferBytes,
    droppedNotice: droppedNotice('access-log'),
  });
  flushOnExit(destination);
  const json = JSON.stringify;
  return {
    get dropped() {
      return destination.dropped;
    },
    write(l: AccessLine): void {
      destination.write(
        `{"level":${l.status >= 500 ? 40 : 30},"time":"${isoNow()}","service":"lb","rid":${json(l.rid)},"method":${json(l.method)},"path":${json(l.path)},` +
          `"status":${l.status},"backend":${l.backend === null ? 'null' : json(l.backend)},"attempts":${l.attempts},"ms":${l.ms},"upstreamMs":${l.upstreamMs === null ? 'null' : l.upstreamMs},"msg":"request"}\n`,
      );
    },
  };
}
