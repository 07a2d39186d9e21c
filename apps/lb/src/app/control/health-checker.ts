import { request as httpRequest, type ClientRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { LbCheckResult } from '@vita/contracts';
import type { BackendConfig, HealthCheckConfig } from '../config/config';
import { FORWARDED_BY_HEADER } from '../nodes/node-headers';
import { describeConnectError } from '../nodes/tls-errors';

/** A server to check: a local backend, or a backup (another node's lb, maybe over verified TLS). */
export interface CheckTarget {
  config: BackendConfig;
  backup: boolean;
}

/** Who checks: this node (named to backups, so that they answer from their own backends only) and the roots https backups are verified against. */
export interface CheckIdentity {
  node: string;
  ca: string[] | undefined;
}

/**
 * Active health checks: an HTTP GET of `healthCheck.path` on each backend every interval (with
 * jitter), on a fresh connection each time like HAProxy's httpchk, bounded by `timeoutMs`. Runs in
 * one process only (the primary), whatever the number of workers. A backup is checked like any
 * other backend, its check carrying `x-vita-forwarded-by`: it passes only if that node's lb can
 * answer from its own backends (never by passing the check on to one of its backups).
 */
export class HealthChecker {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private backends = new Map<string, CheckTarget>();
  private identity: CheckIdentity = { node: 'lb', ca: undefined };
  private stopped = false;

  constructor(
    private settings: HealthCheckConfig,
    /** Skips a backend's checks while it is in maintenance. */
    private readonly paused: (name: string) => boolean,
    private readonly onResult: (name: string, result: LbCheckResult) => void,
  ) {}

  /** Follows a (re)loaded configuration: new backends are checked at once, removed ones no more. */
  sync(settings: HealthCheckConfig, targets: CheckTarget[], identity: CheckIdentity = this.identity): void {
    this.settings = settings;
    this.identity = identity;
    const next = new Map(targets.map((t) => [t.config.name, t]));
    for (const name of this.timers.keys()) {
      const [was, is] = [this.backends.get(name), next.get(name)];
      if (is?.config.url !== was?.config.url || is?.backup !== was?.backup) this.unschedule(name);
    }
    this.backends = next;
    for (const t of targets) if (!this.timers.has(t.config.name)) this.schedule(t.config.name, 0);
  }

  stop(): void {
    this.stopped = true;
    for (const name of [...this.timers.keys()]) this.unschedule(name);
  }

  private unschedule(name: string): void {
    clearTimeout(this.timers.get(name));
    this.timers.delete(name);
  }

  private schedule(name: string, delay: number): void {
    if (this.stopped) return;
    const timer = setTimeout(async () => {
      const backend = this.backends.get(name);
      if (backend === undefined || this.timers.get(name) !== timer) return;
      if (!this.paused(name)) {
        const result = await this.probe(backend);
        // Removed, or moved to another address, while the check ran (sync unscheduled it): its result is
        // moot and the new address has its own timer. The same backend synced again keeps this one.
        if (this.timers.get(name) !== timer) return;
        this.onResult(name, result);
      }
      const { intervalMs, jitter } = this.settings;
      this.schedule(name, intervalMs * (1 + jitter * (2 * Math.random() - 1)));
    }, delay);
    timer.unref();
    this.timers.set(name, timer);
  }

  probe(target: CheckTarget): Promise<LbCheckResult> {
    const { path, expectStatus, timeoutMs } = this.settings;
    const url = new URL(target.config.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const started = performance.now();
    const at = new Date().toISOString();
    const durationMs = () => Math.round((performance.now() - started) * 10) / 10;
    const headers: Record<string, string> = { Host: url.host, 'User-Agent': 'vita-lb-check', Connection: 'close' };
    if (target.backup) headers[FORWARDED_BY_HEADER] = this.identity.node;
    const options: RequestOptions = { host, port: url.port, path, agent: false, headers };
    const secure = url.protocol === 'https:';
    const send = (callback: (res: IncomingMessage) => void): ClientRequest =>
      secure ? httpsRequest({ ...options, ca: this.identity.ca, servername: isIP(host) === 0 ? host : undefined }, callback) : httpRequest(options, callback);
    return new Promise((resolve) => {
      const req = send(
        (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          const ok = status === expectStatus;
          resolve({ ok, status, durationMs: durationMs(), at, ...(ok ? {} : { error: `status ${status}, expected ${expectStatus}` }) });
          req.destroy();
        },
      );
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })), timeoutMs);
      req.once('close', () => clearTimeout(timer));
      req.once('error', (err: NodeJS.ErrnoException) => {
        resolve({ ok: false, durationMs: durationMs(), at, error: err.code === 'TIMEOUT' ? err.message : describeConnectError(err.code ?? err.message, host) });
      });
      req.end();
    });
  }
}
