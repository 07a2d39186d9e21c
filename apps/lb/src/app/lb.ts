import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { startAdmin } from './admin/admin.module';
import { startWorkers } from './cluster/workers';
import { loadConfig } from './config/load';
import { ControlPlane } from './control/control-plane';
import { flushAll } from '@vita/runtime';
import { accessLogger, lbLogger } from './logging';
import { DataPlane } from './proxy/data-plane';

export interface RunningLb {
  control: ControlPlane;
  admin: NestFastifyApplication;
  log: Logger;
  /** The data plane, when it runs in this process (one worker). */
  dataPlane: DataPlane | null;
  /** Where the data plane listens (as configured, or as bound when the port was 0). */
  address: AddressInfo | string;
  /** SIGHUP: reads the configuration again; false (and the old one stays) when it is bad. */
  reload(): boolean;
  /** Reads the HTTPS certificate files again in every process (for the ACME side); false if one was refused. */
  reloadCertificates(): boolean;
  /** SIGTERM: stops accepting, drains in-flight requests within `timeouts.drainMs`, closes the admin plane. */
  stop(): Promise<void>;
}

/**
 * Starts lb from an environment: the control plane (checks, state, reloads) and the admin plane in
 * this process, the data plane here too or in `workers` forked processes (`workerScript`: the
 * bundle's worker.js) sharing the listening socket.
 */
export async function startLb(environment: Record<string, string | undefined>, workerScript = join(__dirname, 'worker.js')): Promise<RunningLb> {
  const loaded = loadConfig(environment);
  const config = loaded.config;
  const log = lbLogger(config);
  const control = new ControlPlane(loaded, log, () => loadConfig(environment));
  const workers = config.workers === 0 ? availableParallelism() : config.workers;
  let dataPlane: DataPlane | null = null;
  let address: AddressInfo | string = config.listen;
  let admin: NestFastifyApplication;
  try {
    if (workers === 1) {
      dataPlane = new DataPlane(config, { passiveDown: (name, reason) => control.passiveDown(name, reason) }, log, accessLogger(config));
      control.attach(dataPlane);
      address = await dataPlane.listen();
    } else {
      await startWorkers(control, workers, workerScript, log);
    }
    admin = await startAdmin(control, { admin: loaded.adminToken, stats: loaded.statsToken }, log);
    // Once the listeners are up: an ACME server validating http-01 reaches the plain one.
    await control.start();
  } catch (err) {
    await control.shutdown();
    throw err;
  }
  log.info({ listen: address, admin: config.admin.listen, workers, backends: config.backends.map((b) => b.name), config: loaded.source }, 'lb started');
  return {
    control,
    admin,
    log,
    dataPlane,
    address,
    reload: () => control.reload(),
    reloadCertificates: () => control.reloadCertificates(),
    stop: async () => {
      log.info('draining');
      await control.shutdown();
      await admin.close();
      log.info('stopped');
      // Logs get a bounded time to be written out: an output nobody reads must not keep lb from exiting.
      await flushAll(1000);
    },
  };
}
