import type { LbAdminState, LbBackendStats, LbBackendStatus, LbCheckResult, LbStats } from '@vita/contracts';
import type { Logger } from 'pino';
import { slowStartWeight, type RouteState } from '../balancer/backend';
import type { BackendConfig, LbConfig } from '../config/config';
import type { LoadedConfig } from '../config/load';
import type { PlaneLink } from '../proxy/data-plane';
import { addInto, latency, newBackendCounters, newFrontendCounters, responses, type BackendCounters } from '../stats/counters';
import { HealthChecker } from './health-checker';

/** The control plane's record of one backend. */
interface BackendState {
  config: BackendConfig;
  health: 'up' | 'down';
  admin: LbAdminState;
  /** Consecutive check results in the direction of a change. */
  rises: number;
  falls: number;
  upSince: number;
  lastChange: number;
  lastChangeReason: string;
  check: LbCheckResult | null;
  checkFailures: number;
}

/** Everything /stats and /metrics show, plus the raw histograms behind the percentiles. */
export interface Report {
  stats: LbStats;
  frontendHistogram: number[];
  backendHistograms: Record<string, number[]>;
  checkFailures: Record<string, number>;
  /** Resident memory of each process: this one, then each data-plane worker. */
  processes: { pid: number; role: 'primary' | 'worker'; rssBytes: number }[];
}

export const statusOf = (s: Pick<BackendState, 'health' | 'admin'>): LbBackendStatus =>
  s.admin === 'maint' ? 'MAINT' : s.admin === 'drain' ? 'DRAIN' : s.health === 'down' ? 'DOWN' : 'UP';

/**
 * The one place that decides: health checks and their rise/fall state machine, passive-check
 * reports from the data planes, operators' state changes, reloads. Data planes (this process's, or
 * one per worker) only follow the routes it publishes.
 */
export class ControlPlane {
  config: LbConfig;
  source: string;
  loadedAt = new Date();
  lastReloadError: string | null = null;
  draining = false;
  private readonly started = Date.now();
  private readonly states = new Map<string, BackendState>();
  private readonly links = new Set<PlaneLink>();
  private readonly checker: HealthChecker;

  constructor(
    loaded: LoadedConfig,
    private readonly log: Logger,
    /** Reads the configuration again (SIGHUP). */
    private readonly reloadSource: () => LoadedConfig,
  ) {
    this.config = loaded.config;
    this.source = loaded.source;
    this.checker = new HealthChecker(loaded.config.healthCheck, (name) => this.states.get(name)?.admin === 'maint', (name, result) => this.onCheck(name, result));
    this.adopt(loaded.config);
  }

  get workers(): number {
    return this.links.size;
  }

  routes(): RouteState[] {
    return [...this.states.values()].map((s) => ({ name: s.config.name, up: s.health === 'up', admin: s.admin, upSince: s.upSince }));
  }

  /** Whether any backend takes requests (readiness). */
  serving(): boolean {
    return !this.draining && [...this.states.values()].some((s) => statusOf(s) === 'UP');
  }

  attach(link: PlaneLink): void {
    this.links.add(link);
    link.applyConfig(this.config);
    link.applyRoutes(this.routes());
  }

  detach(link: PlaneLink): void {
    this.links.delete(link);
  }

  /**
   * Loads the configuration again. A bad one is logged and remembered (stats show it) and the
   * running one stays in force. The listen addresses and the number of workers need a restart.
   */
  reload(): boolean {
    let loaded: LoadedConfig;
    try {
      loaded = this.reloadSource();
    } catch (err) {
      this.lastReloadError = (err as Error).message;
      this.log.error({ error: this.lastReloadError }, 'reload failed: the running configuration stays in force');
      return false;
    }
    const next = loaded.config;
    const fixed = Object.entries({ listen: next.listen !== this.config.listen, workers: next.workers !== this.config.workers, 'admin.listen': next.admin.listen !== this.config.admin.listen });
    const later = fixed.filter(([, changed]) => changed).map(([key]) => key);
    if (later.length > 0) this.log.warn({ keys: later }, 'reload: these settings take effect at the next restart');
    const config: LbConfig = { ...next, listen: this.config.listen, workers: this.config.workers, admin: this.config.admin };
    this.config = config;
    this.source = loaded.source;
    this.loadedAt = new Date();
    this.lastReloadError = null;
    this.adopt(config);
    for (const link of this.links) link.applyConfig(config);
    this.publish();
    this.log.info({ source: this.source, backends: config.backends.map((b) => b.name) }, 'configuration reloaded');
    return true;
  }

  /** An operator's state change; false when there is no such backend. */
  setAdmin(name: string, admin: LbAdminState): boolean {
    const s = this.states.get(name);
    if (s === undefined) return false;
    if (s.admin !== admin) {
      const before = statusOf(s);
      if (s.admin !== 'ready' && admin === 'ready') s.upSince = Date.now();
      s.admin = admin;
      this.changed(s, before, `set to ${admin} by an operator`);
    }
    return true;
  }

  /** A data plane saw too many failures in a row: down until the checks pass `rise` times. */
  passiveDown(name: string, reason: string): void {
    const s = this.states.get(name);
    if (s === undefined || s.health === 'down') return;
    const before = statusOf(s);
    s.health = 'down';
    s.rises = 0;
    this.changed(s, before, `passive check: ${reason}`);
  }

  async report(): Promise<Report> {
    const snapshots = await Promise.all([...this.links].map((l) => l.snapshot()));
    const frontend = newFrontendCounters();
    const perBackend: Record<string, BackendCounters> = {};
    for (const snap of snapshots) {
      addInto(frontend, snap.frontend);
      for (const [name, counters] of Object.entries(snap.backends)) addInto((perBackend[name] ??= newBackendCounters()), counters);
    }
    const backends = [...this.states.values()].map((s): LbBackendStats => {
      const c = perBackend[s.config.name] ?? newBackendCounters();
      return {
        name: s.config.name,
        url: s.config.url,
        status: statusOf(s),
        health: s.health,
        admin: s.admin,
        weight: s.config.weight,
        effectiveWeight: this.effectiveWeight(s),
        lastChange: new Date(s.lastChange).toISOString(),
        lastChangeReason: s.lastChangeReason,
        check: s.check,
        active: c.active,
        total: c.total,
        retries: c.retries,
        responses: responses(c.classes),
        errors: c.errors,
        latency: latency(c.histogram),
      };
    });
    const rss = new Map<number, number>([[process.pid, process.memoryUsage.rss()], ...snapshots.map((s): [number, number] => [s.pid, s.rssBytes])]);
    const { histogram, classes, ...counts } = frontend;
    const stats: LbStats = {
      algorithm: this.config.algorithm,
      workers: this.workers,
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      draining: this.draining,
      config: { source: this.source, loadedAt: this.loadedAt.toISOString(), lastReloadError: this.lastReloadError },
      frontend: { ...counts, responses: responses(classes), latency: latency(histogram) },
      backends,
    };
    return {
      stats,
      frontendHistogram: histogram,
      backendHistograms: Object.fromEntries(backends.map((b) => [b.name, (perBackend[b.name] ?? newBackendCounters()).histogram])),
      checkFailures: Object.fromEntries([...this.states.values()].map((s) => [s.config.name, s.checkFailures])),
      processes: [...rss].map(([pid, rssBytes]) => ({ pid, role: pid === process.pid ? 'primary' : 'worker', rssBytes })),
    };
  }

  /** SIGTERM: not ready any more, checks stop, every data plane drains within `timeouts.drainMs`. */
  async shutdown(): Promise<void> {
    this.draining = true;
    this.checker.stop();
    await Promise.all([...this.links].map((l) => l.drain(this.config.timeouts.drainMs)));
  }

  private adopt(config: LbConfig): void {
    const now = Date.now();
    const next = new Map<string, BackendState>();
    for (const c of config.backends) {
      const old = this.states.get(c.name);
      const keep = old !== undefined && old.config.url === c.url;
      // A new backend counts as up until its first check says otherwise (one failure takes it out).
      next.set(c.name, keep ? { ...old, config: c } : { config: c, health: 'up', admin: old?.admin ?? 'ready', rises: 0, falls: config.healthCheck.fall - 1, upSince: 0, lastChange: now, lastChangeReason: 'configured', check: null, checkFailures: 0 });
    }
    this.states.clear();
    for (const [name, s] of next) this.states.set(name, s);
    this.checker.sync(config.healthCheck, config.backends);
  }

  private onCheck(name: string, result: LbCheckResult): void {
    const s = this.states.get(name);
    if (s === undefined) return;
    s.check = result;
    const { rise, fall } = this.config.healthCheck;
    const before = statusOf(s);
    if (result.ok) {
      s.falls = 0;
      if (s.health === 'down' && ++s.rises >= rise) {
        s.health = 'up';
        s.upSince = Date.now();
        this.changed(s, before, `${rise} check(s) passed`);
      }
    } else {
      s.checkFailures++;
      s.rises = 0;
      if (s.health === 'up' && ++s.falls >= fall) {
        s.health = 'down';
        this.changed(s, before, `check failed: ${result.error}`);
      }
    }
  }

  private changed(s: BackendState, before: LbBackendStatus, reason: string): void {
    s.lastChange = Date.now();
    s.lastChangeReason = reason;
    const after = statusOf(s);
    if (after !== before) this.log[after === 'DOWN' ? 'warn' : 'info']({ backend: s.config.name, from: before, to: after, reason }, `backend ${s.config.name} is ${after}`);
    this.publish();
  }

  private publish(): void {
    const routes = this.routes();
    for (const link of this.links) link.applyRoutes(routes);
  }

  private effectiveWeight(s: BackendState): number {
    return Math.round(slowStartWeight(s.config.weight, s.upSince, Date.now(), this.config.slowStartMs) * 100) / 100;
  }
}
