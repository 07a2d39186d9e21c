import type { LbAdminState, LbBackendStats, LbBackendStatus, LbCheckResult, LbStats, SitePeerDto } from '@vita/contracts';
import type { Logger } from 'pino';
import { slowStartWeight, type RouteState } from '../balancer/backend';
import { certificateList, type BackendConfig, type LbConfig } from '../config/config';
import type { LoadedConfig } from '../config/load';
import type { PlaneLink } from '../proxy/data-plane';
import { addInto, latency, newBackendCounters, newFrontendCounters, responses, type BackendCounters } from '../stats/counters';
import { backupRoots } from '../config/tls-files';
import { CertificateSet } from '../https/certificates';
import { newTicketKey, TICKET_ROTATION_MS } from '../https/listener';
import { AlertNotifier } from '@vita/runtime';
import { AcmeRunner } from './acme-runner';
import { HealthChecker } from './health-checker';
import { backupsWith, PeersPoller } from './peers';

/** The control plane's record of one backend. */
interface BackendState {
  config: BackendConfig;
  /** Another node's lb: used only while no local backend is UP. */
  backup: boolean;
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
 * reports from the data planes, operators' state changes, reloads, the backups learned from the
 * site topology (peers.url). Data planes (this process's, or one per worker) only follow the
 * configuration and routes it publishes.
 */
export class ControlPlane {
  /** The configuration in force: as loaded, its backups joined by the peers last learned. */
  config: LbConfig;
  /** As loaded (file and variables). */
  private configured: LbConfig;
  private peers: SitePeerDto[] = [];
  private poller: PeersPoller | null = null;
  source: string;
  loadedAt = new Date();
  lastReloadError: string | null = null;
  draining = false;
  private readonly started = Date.now();
  private readonly states = new Map<string, BackendState>();
  private readonly links = new Set<PlaneLink>();
  private readonly checker: HealthChecker;
  /** The HTTPS certificates as this process reads them (checks, polling, stats); null without https. */
  private readonly certificates: CertificateSet | null = null;
  private certificatePoll: NodeJS.Timeout | null = null;
  /**
   * The HTTPS session ticket key, made here once and sent to every data plane so a session resumes on
   * any worker. Replaced every 12 h (Node takes one key: tickets issued before a rotation get a full
   * handshake once, then a new ticket).
   */
  private ticketKey = newTicketKey();
  /** Only with https (turning it on takes a restart). */
  private readonly ticketRotation: NodeJS.Timeout | null = null;
  /** Automatic certificates (https.acme): runs here only, never in the workers. */
  private readonly acme: AcmeRunner;

  constructor(
    loaded: LoadedConfig,
    private readonly log: Logger,
    /** Reads the configuration again (SIGHUP). */
    private readonly reloadSource: () => LoadedConfig,
  ) {
    this.configured = loaded.config;
    this.config = this.withPeers(loaded.config);
    this.source = loaded.source;
    this.checker = new HealthChecker(loaded.config.healthCheck, (name) => this.states.get(name)?.admin === 'maint', (name, result) => this.onCheck(name, result));
    this.adopt(this.config);
    this.poll(null);
    if (loaded.config.https !== undefined) {
      this.ticketRotation = setInterval(() => this.rotateTicketKey(), TICKET_ROTATION_MS).unref();
      this.certificates = new CertificateSet();
      this.certificates.load(certificateList(loaded.config.https), true);
      this.pollCertificates();
    }
    const alerts = new AlertNotifier({ url: loaded.alerts.url, repeatMs: loaded.alerts.repeatMs }, log);
    this.acme = new AcmeRunner(log, alerts, () => this.reloadCertificates());
  }

  /** Starts what runs in the background beyond health checks: the ACME side. */
  async start(): Promise<void> {
    await this.acme.apply(this.config.https);
  }

  private rotateTicketKey(): void {
    this.ticketKey = newTicketKey();
    for (const link of this.links) link.applyTicketKey(this.ticketKey);
    this.log.info('TLS session ticket key rotated');
  }

  /** (Re)starts checking the certificate files' modification times every https.pollMs. */
  private pollCertificates(): void {
    if (this.certificatePoll !== null) clearInterval(this.certificatePoll);
    const ms = this.config.https?.pollMs ?? 0;
    this.certificatePoll = ms === 0 ? null : setInterval(() => this.certificates?.changed() && this.reloadCertificates(), ms).unref();
  }

  /**
   * Reads the HTTPS certificate files again, here and in every data plane: what the ACME side calls
   * once it has written a new certificate and key to the configured files (SIGHUP and a changed file
   * do it too). A file that cannot be used is refused (one line naming it, logged and in /stats) and
   * its previous certificate stays. Open connections keep theirs; new handshakes get the new one.
   * False when some file was refused or there is no https.
   */
  reloadCertificates(): boolean {
    const https = this.config.https;
    if (this.certificates === null || https === undefined) return false;
    const errors = this.certificates.load(certificateList(https), false);
    for (const error of errors) this.log.error({ error }, 'certificate refused: the one loaded before stays in force');
    for (const link of this.links) link.reloadCertificates();
    if (errors.length === 0) this.log.info({ certificates: this.certificates.stats().map((c) => ({ file: c.file, names: c.names, notAfter: c.notAfter })) }, 'certificates loaded');
    return errors.length === 0;
  }

  /** The backups in force: the configured ones and the peers, this node left out. */
  private withPeers(config: LbConfig): LbConfig {
    return this.peers.length === 0 ? config : { ...config, backups: backupsWith(config.backups, this.peers, config.nodeName) };
  }

  /** (Re)starts polling peers.url when its settings changed. */
  private poll(previous: LbConfig | null): void {
    const p = this.configured.peers;
    if (previous !== null && JSON.stringify(previous.peers) === JSON.stringify(p)) return;
    this.poller?.stop();
    this.poller = null;
    if (p.url === undefined) {
      if (this.peers.length > 0) this.onPeers([]);
      return;
    }
    this.poller = new PeersPoller({ ...p, url: p.url }, this.log, (peers) => this.onPeers(peers));
  }

  /** A new list from the topology: every data plane (each worker) gets the backups it makes. */
  private onPeers(peers: SitePeerDto[]): void {
    this.peers = peers;
    const config = this.withPeers(this.configured);
    const before = this.config.backups.map((b) => b.name);
    this.config = config;
    this.adopt(config);
    for (const link of this.links) link.applyConfig(config);
    this.publish();
    this.log.info({ peers: peers.map((p) => p.name), backups: config.backups.map((b) => b.name), before }, 'backups learned from the site topology');
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
    link.applyTicketKey(this.ticketKey);
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
    const fixed = Object.entries({
      listen: next.listen !== this.config.listen,
      workers: next.workers !== this.config.workers,
      'admin.listen': next.admin.listen !== this.config.admin.listen,
      nodeName: next.nodeName !== this.config.nodeName,
      peer: JSON.stringify(next.peer) !== JSON.stringify(this.config.peer),
      'https.listen': next.https?.listen !== this.config.https?.listen,
    });
    const later = fixed.filter(([, changed]) => changed).map(([key]) => key);
    if (later.length > 0) this.log.warn({ keys: later }, 'reload: these settings take effect at the next restart');
    const previous = this.configured;
    this.configured = { ...next, listen: this.config.listen, workers: this.config.workers, admin: this.config.admin, nodeName: this.config.nodeName, peer: this.config.peer };
    // Turning https on or off, or moving it, needs a restart; its other settings apply now.
    if (next.https?.listen !== this.config.https?.listen) this.configured.https = this.config.https;
    const config = this.withPeers(this.configured);
    this.config = config;
    this.source = loaded.source;
    this.loadedAt = new Date();
    this.lastReloadError = null;
    this.adopt(config);
    for (const link of this.links) link.applyConfig(config);
    this.publish();
    this.poll(previous);
    this.pollCertificates();
    this.reloadCertificates();
    this.acme.apply(this.config.https).catch((err: Error) => this.log.error({ error: err.message }, 'ACME: the new settings cannot be used; the certificate on disk stays in force'));
    this.log.info({ source: this.source, backends: config.backends.map((b) => b.name), backups: config.backups.map((b) => b.name) }, 'configuration reloaded');
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
        backup: s.backup,
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
    const acme = this.acme.status();
    const stats: LbStats = {
      algorithm: this.config.algorithm,
      workers: this.workers,
      uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
      draining: this.draining,
      config: { source: this.source, loadedAt: this.loadedAt.toISOString(), lastReloadError: this.lastReloadError },
      frontend: { ...counts, responses: responses(classes), latency: latency(histogram) },
      backends,
      ...(this.certificates === null ? {} : { certificates: this.certificates.stats() }),
      ...(acme === undefined ? {} : { acme }),
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
    this.poller?.stop();
    if (this.ticketRotation !== null) clearInterval(this.ticketRotation);
    if (this.certificatePoll !== null) clearInterval(this.certificatePoll);
    await this.acme.stop();
    await Promise.all([...this.links].map((l) => l.drain(this.config.timeouts.drainMs)));
  }

  private adopt(config: LbConfig): void {
    const now = Date.now();
    const next = new Map<string, BackendState>();
    const place = (c: BackendConfig, backup: boolean) => {
      const old = this.states.get(c.name);
      const keep = old !== undefined && old.config.url === c.url && old.backup === backup;
      // A new backend counts as up until its first check says otherwise (one failure takes it out); a
      // new backup (another node, maybe just learned) takes nothing before `rise` checks have passed.
      const health = backup ? 'down' : 'up';
      next.set(c.name, keep ? { ...old, config: c } : { config: c, backup, health, admin: old?.admin ?? 'ready', rises: 0, falls: config.healthCheck.fall - 1, upSince: 0, lastChange: now, lastChangeReason: backup ? 'configured: a backup is DOWN until its checks pass' : 'configured', check: null, checkFailures: 0 });
    };
    for (const c of config.backends) place(c, false);
    for (const c of config.backups) place(c, true);
    this.states.clear();
    for (const [name, s] of next) this.states.set(name, s);
    const targets = [...next.values()].map((s) => ({ config: s.config, backup: s.backup }));
    const ca = config.backups.some((b) => b.url.startsWith('https:')) ? backupRoots(config) : undefined;
    this.checker.sync(config.healthCheck, targets, { node: config.nodeName, ca });
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
