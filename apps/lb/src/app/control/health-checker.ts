import { request } from 'node:http';
import type { LbCheckResult } from '@vita/contracts';
import type { BackendConfig, HealthCheckConfig } from '../config/config';

/**
 * Active health checks: an HTTP GET of `healthCheck.path` on each backend every interval (with
 * jitter), on a fresh connection each time like HAProxy's httpchk, bounded by `timeoutMs`. Runs in
 * one process only (the primary), whatever the number of workers.
 */
export class HealthChecker {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private backends = new Map<string, BackendConfig>();
  private stopped = false;

  constructor(
    private settings: HealthCheckConfig,
    /** Skips a backend's checks while it is in maintenance. */
    private readonly paused: (name: string) => boolean,
    private readonly onResult: (name: string, result: LbCheckResult) => void,
  ) {}

  /** Follows a (re)loaded configuration: new backends are checked at once, removed ones no more. */
  sync(settings: HealthCheckConfig, backends: BackendConfig[]): void {
    this.settings = settings;
    const next = new Map(backends.map((b) => [b.name, b]));
    for (const name of this.timers.keys()) {
      if (next.get(name)?.url !== this.backends.get(name)?.url) this.unschedule(name);
    }
    this.backends = next;
    for (const b of backends) if (!this.timers.has(b.name)) this.schedule(b.name, 0);
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
        // Removed or replaced while the check ran: its result is moot.
        if (this.timers.get(name) !== timer || this.backends.get(name) !== backend) return;
        this.onResult(name, result);
      }
      const { intervalMs, jitter } = this.settings;
      this.schedule(name, intervalMs * (1 + jitter * (2 * Math.random() - 1)));
    }, delay);
    timer.unref();
    this.timers.set(name, timer);
  }

  probe(backend: BackendConfig): Promise<LbCheckResult> {
    const { path, expectStatus, timeoutMs } = this.settings;
    const url = new URL(backend.url);
    const started = performance.now();
    const at = new Date().toISOString();
    const durationMs = () => Math.round((performance.now() - started) * 10) / 10;
    return new Promise((resolve) => {
      const req = request(
        { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port, path, agent: false, headers: { Host: url.host, 'User-Agent': 'vita-lb-check', Connection: 'close' } },
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
        resolve({ ok: false, durationMs: durationMs(), at, error: err.code === 'TIMEOUT' ? err.message : (err.code ?? err.message) });
      });
      req.end();
    });
  }
}
