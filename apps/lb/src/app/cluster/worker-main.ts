import { flushAll } from '@vita/runtime';
import { DataPlane } from '../proxy/data-plane';
import { accessLogger, lbLogger } from '../logging';
import type { ToPrimary, ToWorker } from './messages';

const send = (message: ToPrimary) => process.send?.(message);

/**
 * A data-plane worker: waits for its configuration from the primary, listens on the shared socket,
 * follows the routes the primary publishes, reports passive-check failures and counters, drains on
 * request. Signals are the primary's business; if the primary goes away, the worker drains and exits.
 */
export function runWorker(): void {
  let plane: DataPlane | null = null;
  let drainMs = 10_000;
  let ticketKey: Buffer | null = null;
  // Logs get a bounded time to be written out: an output nobody reads must not keep the worker from exiting.
  const drainAndExit = (ms: number) => void (plane?.drain(ms) ?? Promise.resolve()).then(() => flushAll(1000)).then(() => process.exit(0));
  process.on('message', (m: ToWorker) => {
    if (m.t === 'config') {
      drainMs = m.config.timeouts.drainMs;
      if (plane !== null) return plane.applyConfig(m.config);
      plane = new DataPlane(m.config, { passiveDown: (name, reason) => send({ t: 'passive', name, reason }) }, lbLogger(m.config), accessLogger(m.config), m.planes);
      if (ticketKey !== null) plane.applyTicketKey(ticketKey);
      plane.listen().then(
        () => send({ t: 'listening' }),
        (err: Error) => {
          send({ t: 'failed', error: err.message });
          process.exit(1);
        },
      );
    } else if (m.t === 'tickets') {
      ticketKey = Buffer.from(m.key, 'base64');
      plane?.applyTicketKey(ticketKey);
    } else if (m.t === 'certificates') plane?.reloadCertificates();
    else if (m.t === 'routes') plane?.applyRoutes(m.routes);
    else if (m.t === 'snapshot') plane?.snapshot().then((snapshot) => send({ t: 'snapshot', id: m.id, snapshot }));
    else if (m.t === 'drain') drainAndExit(m.ms);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
  process.on('disconnect', () => drainAndExit(drainMs));
}
