import pino, { type Logger } from 'pino';
import { BatchedDestination, createLogger } from '@vita/runtime';
import type { LbConfig } from './config/config';

/** lb's own log: state changes, reloads, rejected requests (JSON on standard output). */
export const lbLogger = (config: LbConfig) => createLogger('lb', config.logLevel);

/**
 * The access log, one JSON line per request (or a sample of them) written asynchronously, off the
 * request path, in batches (at most 100 ms late; flushed at exit): to standard output, to a file, or
 * nowhere. Its lines hold only lb's own fields (no headers, no bodies), so they skip the redaction pass.
 */
export function accessLogger(config: LbConfig): Logger | null {
  const to = config.accessLog.to;
  if (to === 'off') return null;
  const destination = new BatchedDestination(pino.destination({ dest: to === 'stdout' ? 1 : to, sync: false, mkdir: to !== 'stdout' }));
  return createLogger('lb', 'info', destination).child({}, { redact: [] });
}
