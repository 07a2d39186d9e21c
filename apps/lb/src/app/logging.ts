import pino from 'pino';
import { BatchedDestination, createLogger, flushOnExit } from '@vita/runtime';
import type { LbConfig } from './config/config';

/** lb's own log: state changes, reloads, rejected requests (JSON on standard output). */
export const lbLogger = (config: LbConfig) => createLogger('lb', config.logLevel);

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
 * of lb's CPU per request.
 */
export function accessLogger(config: LbConfig): AccessLog | null {
  const to = config.accessLog.to;
  if (to === 'off') return null;
  const destination = new BatchedDestination(pino.destination({ dest: to === 'stdout' ? 1 : to, sync: false, mkdir: to !== 'stdout' }));
  flushOnExit(destination);
  const json = JSON.stringify;
  return {
    write(l: AccessLine): void {
      destination.write(
        `{"level":${l.status >= 500 ? 40 : 30},"time":"${isoNow()}","service":"lb","rid":${json(l.rid)},"method":${json(l.method)},"path":${json(l.path)},` +
          `"status":${l.status},"backend":${l.backend === null ? 'null' : json(l.backend)},"attempts":${l.attempts},"ms":${l.ms},"upstreamMs":${l.upstreamMs === null ? 'null' : l.upstreamMs},"msg":"request"}\n`,
      );
    },
  };
}
