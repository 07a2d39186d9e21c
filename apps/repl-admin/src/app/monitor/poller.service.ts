import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { ReplicaState, TopologyDto } from '@vita/contracts';
import { AuditService } from '../audit/audit.service';
import { AlertService } from '../alerts/alert.service';
import { ENV } from '@vita/runtime';
import type { ReplConfig } from '../config/config';
import { Db } from '../db/db.service';
import { errantGtids } from '../db/gtid';
import { describeError } from '../db/sql';
import { MetricsService } from '../metrics/metrics.service';
import { AutoRepairService } from '../repair/auto-repair.service';
import { chooseFresh } from './fresh';
import { HeartbeatService } from './heartbeat.service';
import { Loop } from './loop';
import { probeServer, readVars, type ServerProbe, unreachable } from './probe';
import { buildTopology } from './topology';

/** What started a check (the `trigger` label of repl_admin_checks_total). */
export type CheckTrigger = 'poll' | 'action' | 'fresh';

/** A fresh read's answer and how it was come by (the `X-Check` header): a check started for it (or after it), the one in progress, or the newest. */
export interface FreshTopology {
  topology: TopologyDto;
  check: 'new' | 'joined' | 'recent';
}

/**
 * Checks every server once per REPL_POLL_INTERVAL_MS (bounded by REPL_QUERY_TIMEOUT_MS), then lets automation,
 * alerts and metrics act on the result. `refresh()` runs a check on demand (actions check fresh state);
 * `fresh()` serves the unauthenticated `?fresh=1` reads, coalesced and rate-limited (see fresh.ts).
 */
@Injectable()
export class PollerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PollerService.name);
  private readonly loop: Loop;
  private readonly since = new Map<string, { state: ReplicaState; at: string }>();
  private latest?: TopologyDto;
  private primaryUpSince: number | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  /** When the check behind `latest` started. */
  private latestStartedAt: number | null = null;
  /** The check in progress. */
  private running: { startedAt: number; done: Promise<TopologyDto> } | null = null;
  /** A check for fresh reads, waiting behind the one in progress; every fresh read that needs one shares it. */
  private nextFresh: Promise<TopologyDto> | null = null;

  constructor(
    @Inject(ENV) private readonly config: ReplConfig,
    private readonly db: Db,
    private readonly heartbeat: HeartbeatService,
    private readonly autoRepair: AutoRepairService,
    private readonly alerts: AlertService,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
  ) {
    this.loop = new Loop(config.env.REPL_POLL_INTERVAL_MS, () => this.refresh('poll'), (err) => this.logger.error(`check failed: ${describeError(err)}`));
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.loop.stop();
  }

  /** The newest check, if one has completed. */
  current(): TopologyDto | undefined {
    return this.latest;
  }

  /** Runs a check after the one in flight and returns it (`onStart`: called as it starts). */
  refresh(trigger: CheckTrigger = 'action', onStart?: () => void): Promise<TopologyDto> {
    const next = this.chain.then(() => {
      onStart?.();
      return this.run(trigger);
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  /**
   * A fresh read: a check that started at most REPL_FRESH_MIN_INTERVAL_MS before the call. The newest
   * check or the one in progress when it qualifies; otherwise one check, shared by every fresh read
   * that needs it, so a flood of them starts at most one check per interval.
   */
  async fresh(): Promise<FreshTopology> {
    const latest = this.latest;
    const choice = chooseFresh({
      now: Date.now(),
      windowMs: this.config.env.REPL_FRESH_MIN_INTERVAL_MS,
      latestStartedAt: latest ? this.latestStartedAt : null,
      runningStartedAt: this.running?.startedAt ?? null,
      queued: this.nextFresh !== null,
    });
    this.metrics.freshReads.inc({ answer: choice });
    if (choice === 'recent' && latest) return { topology: latest, check: 'recent' };
    if (choice === 'joined' && this.running) return { topology: await this.running.done, check: 'joined' };
    // 'new' or 'queued': the check queued for fresh reads (it starts after the call), made if there is none.
    const next = (this.nextFresh ??= this.refresh('fresh', () => (this.nextFresh = null)));
    return { topology: await next, check: 'new' };
  }

  private run(trigger: CheckTrigger): Promise<TopologyDto> {
    const startedAt = Date.now();
    this.metrics.checks.inc({ trigger });
    const done = this.check(startedAt);
    const entry = { startedAt, done };
    this.running = entry;
    const settled = () => {
      if (this.running === entry) this.running = null;
    };
    done.then(settled, settled);
    return done;
  }

  private probe = (server: ServerProbe['server']): Promise<ServerProbe> =>
    this.db.with(server, 'monitor', (conn) => probeServer(conn, server, this.config)).catch((err: unknown) => unreachable(server, describeError(err)));

  private async check(startedAt: number): Promise<TopologyDto> {
    const probes = await Promise.all(this.config.all.map(this.probe));
    const [primary, ...replicas] = probes;
    const now = Date.now();
    if (!primary.reachable) this.primaryUpSince = null;
    else this.primaryUpSince ??= now;
    // The primary was read alongside the replicas: before calling a replica errant, re-read the primary's state.
    const suspect = primary.vars && replicas.some((r) => r.vars && errantGtids(r.vars.gtidBinlogState, primary.vars?.gtidBinlogState ?? '', primary.vars?.gtidBinlogPos ?? '').length > 0);
    const primaryGtid = suspect
      ? await this.db.with(primary.server, 'monitor', readVars).then((v) => ({ state: v.gtidBinlogState, pos: v.gtidBinlogPos }), () => null)
      : null;
    const topology = buildTopology({
      config: this.config,
      probes,
      primaryGtid,
      now,
      heartbeat: this.heartbeat.status(),
      automation: (name) => this.autoRepair.status(name),
      since: this.since,
      lastActions: this.audit.list(10),
    });
    this.latest = topology;
    this.latestStartedAt = startedAt;
    this.metrics.onTopology(topology);
    this.alerts.onTopology(topology, now);
    await this.autoRepair.onTopology(topology, this.primaryUpSince);
    return topology;
  }
}
