import pino, { type Logger } from 'pino';
import { createLogger } from '@vita/runtime';
import type { LbConfig } from './config/config';

/** lb's own log: state changes, reloads, rejected requests (JSON on standard output). */
export const lbLogger = (config: LbConfig) => createLogger('lb', config.logLevel);

/**
 * The access log, one JSON line per request (or a sample of them) written asynchronously, off the
 * request path: to standard output, to a file, or nowhere.
 */
export function accessLogger(config: LbConfig): Logger | null {
  const to = config.accessLog.to;
  if (to === 'off') return null;
  return createLogger('lb', 'info', pino.destination({ dest: to === 'stdout' ? 1 : to, sync: false, mkdir: to !== 'stdout' }));
}
