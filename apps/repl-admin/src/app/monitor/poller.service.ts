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
import { HeartbeatService } from './heartbeat.service';
import { Loop } from './loop';
import { probeServer, readVars, type ServerProbe, unreachable } from './probe';
import { buildTopology } from './topology';

/**
 * Checks every server once per REPL_POLL_INTERVAL_MS (bounded by REPL_QUERY_TIMEOUT_MS), then lets automation,
 * alerts and metrics act on the result. `refresh()` runs a check on demand (actions check fresh state).
 */
@Injectable()
export class PollerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PollerService.name);
  private readonly loop: Loop;
  private readonly since = new Map<string, { state: ReplicaState; at: string }>();
  private latest?: TopologyDto;
  private primaryUpSince: number | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(ENV) private readonly config: ReplConfig,
    private readonly db: Db,
    private readonly heartbeat: HeartbeatService,
    private readonly autoRepair: AutoRepairService,
    private readonly alerts: AlertService,
    private readonly metrics: MetricsService,
    private readonly audit: AuditService,
  ) {
    this.loop = new Loop(config.env.REPL_POLL_INTERVAL_MS, () => this.refresh(), (err) => this.logger.error(`check failed: ${describeError(err)}`));
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

  /** Runs a check after the one in flight and returns it. */
  refresh(): Promise<TopologyDto> {
    const next = this.chain.then(() => this.check());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private probe = (server: ServerProbe['server']): Promise<ServerProbe> =>
    this.db.with(server, 'monitor', (conn) => probeServer(conn, server, this.config)).catch((err: unknown) => unreachable(server, describeError(err)));

  private async check(): Promise<TopologyDto> {
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
    this.metrics.onTopology(topology);
    this.alerts.onTopology(topology, now);
    await this.autoRepair.onTopology(topology, this.primaryUpSince);
    return topology;
  }
}
