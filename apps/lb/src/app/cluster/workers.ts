import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { RouteState } from '../balancer/backend';
import type { LbConfig } from '../config/config';
import type { ControlPlane } from '../control/control-plane';
import type { PlaneLink } from '../proxy/data-plane';
import { newFrontendCounters, type PlaneSnapshot } from '../stats/counters';
import type { ToPrimary, ToWorker } from './messages';

const SNAPSHOT_TIMEOUT_MS = 2000;

/** The control plane's handle on a data plane in a worker process, over the cluster IPC channel. */
class WorkerLink implements PlaneLink {
  private seq = 0;
  private readonly pending = new Map<number, (snapshot: PlaneSnapshot) => void>();

  constructor(
    readonly worker: Worker,
    private readonly planes: number,
  ) {
    worker.on('message', (m: ToPrimary) => {
      if (m.t !== 'snapshot') return;
      this.pending.get(m.id)?.(m.snapshot);
      this.pending.delete(m.id);
    });
  }

  private send(message: ToWorker): void {
    if (this.worker.isConnected()) this.worker.send(message);
  }

  applyConfig(config: LbConfig): void {
    this.send({ t: 'config', config, planes: this.planes });
  }

  applyTicketKey(key: Buffer): void {
    this.send({ t: 'tickets', key: key.toString('base64') });
  }

  reloadCertificates(): void {
    this.send({ t: 'certificates' });
  }

  applyRoutes(routes: RouteState[]): void {
    this.send({ t: 'routes', routes });
  }

  /** The worker's counters; empty ones if it does not answer in time (it is restarting, say). */
  snapshot(): Promise<PlaneSnapshot> {
    const id = ++this.seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ pid: this.worker.process.pid ?? 0, frontend: newFrontendCounters(), backends: {}, rssBytes: 0 });
      }, SNAPSHOT_TIMEOUT_MS);
      this.pending.set(id, (snapshot) => {
        clearTimeout(timer);
        resolve(snapshot);
      });
      this.send({ t: 'snapshot', id });
    });
  }

  /** Asks the worker to drain and waits for it to exit; kills it if it overruns the deadline by 5 s. */
  drain(ms: number): Promise<void> {
    const worker = this.worker;
    if (worker.isDead()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => worker.process.kill('SIGKILL'), ms + 5000);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.send({ t: 'drain', ms });
    });
  }
}

/**
 * Forks `count` data-plane workers (`exec`: the worker entry) sharing the listening socket, attaches
 * each to the control plane, and resolves once all listen. A worker that dies later is replaced.
 */
export async function startWorkers(control: ControlPlane, count: number, exec: string, log: Logger): Promise<void> {
  cluster.setupPrimary({ exec });
  const spawn = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      const link = new WorkerLink(worker, count);
      let listening = false;
      worker.on('message', (m: ToPrimary) => {
        if (m.t === 'listening') {
          listening = true;
          resolve();
        } else if (m.t === 'failed') reject(new Error(m.error));
        else if (m.t === 'passive') control.passiveDown(m.name, m.reason);
      });
      worker.once('exit', (code, signal) => {
        control.detach(link);
        if (!listening) return reject(new Error(`a worker exited (${signal ?? code}) before it listened`));
        if (control.draining) return;
        log.error({ pid: worker.process.pid, code, signal }, 'worker died: starting another');
        setTimeout(() => spawn().catch((err: Error) => log.error({ error: err.message }, 'replacement worker failed')), 1000).unref();
      });
      control.attach(link);
    });
  await Promise.all(Array.from({ length: count }, spawn));
}
