import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AutomationStatusDto, ReplicaStatusDto, TopologyDto } from '@vita/contracts';
import { AuditService } from '../audit/audit.service';
import { ReplicaLocks } from '../audit/replica-locks';
import { ENV } from '@vita/runtime';
import type { ReplConfig } from '../config/config';
import { Db } from '../db/db.service';
import { describeError, render, run } from '../db/sql';
import { MetricsService } from '../metrics/metrics.service';
import { type AutoHistory, type AutoSettings, decide } from './policy';

const HOUR = 3_600_000;

/** Applies the automation policy after every check, and remembers what it did per replica. */
@Injectable()
export class AutoRepairService {
  private readonly logger = new Logger(AutoRepairService.name);
  private readonly history = new Map<string, AutoHistory>();
  private readonly settings: AutoSettings;

  constructor(
    @Inject(ENV) private readonly config: ReplConfig,
    private readonly db: Db,
    private readonly audit: AuditService,
    private readonly locks: ReplicaLocks,
    private readonly metrics: MetricsService,
  ) {
    const e = config.env;
    this.settings = {
      enabled: e.REPL_AUTO_REPAIR === 'on',
      maxPerHour: e.REPL_AUTO_MAX_PER_HOUR,
      backoffSeconds: e.REPL_AUTO_BACKOFF_SECONDS,
      confirmSeconds: e.REPL_AUTO_CONFIRM_SECONDS,
      graceSeconds: e.REPL_AUTO_GRACE_SECONDS,
    };
  }

  private of(replica: string): AutoHistory {
    let h = this.history.get(replica);
    if (!h) this.history.set(replica, (h = { times: [], pending: null, disabledReason: null }));
    return h;
  }

  status(replica: string): AutomationStatusDto {
    const h = this.of(replica);
    const now = Date.now();
    h.times = h.times.filter((t) => now - t < HOUR);
    const reason = this.settings.enabled ? h.disabledReason : 'REPL_AUTO_REPAIR is off';
    return { enabled: reason === null, disabledReason: reason, actionsLastHour: h.times.length };
  }

  /** A person fixed the replica: automation may act on it again. */
  reenable(replica: string): void {
    const h = this.of(replica);
    if (h.disabledReason) this.logger.log(`automatic repair is on again for ${replica} after a successful manual action`);
    h.disabledReason = null;
    h.pending = null;
  }

  async onTopology(t: TopologyDto, primaryUpSince: number | null): Promise<void> {
    await Promise.all(t.replicas.filter((r) => !this.locks.isHeld(r.name)).map((r) => this.consider(r, primaryUpSince)));
  }

  private async consider(r: ReplicaStatusDto, primaryUpSince: number | null): Promise<void> {
    const h = this.of(r.name);
    const now = Date.now();
    if (h.disabledReason && !h.pending && r.state === 'OK') {
      // Someone (or time) fixed what the action could not: automation may act on this replica again.
      this.logger.log(`${r.name} is OK again: automatic repair is on again`);
      h.disabledReason = null;
    }
    const d = decide(r, h, now, primaryUpSince, this.settings);
    if (d.kind === 'wait') return;
    if (d.kind === 'judge') {
      h.pending = null;
      this.metrics.autoResults.inc({ replica: r.name, action: d.repair, result: d.helped ? 'helped' : 'did-not-help' });
      if (d.helped) this.logger.log(`${r.name}: ${d.why}`);
      else this.disable(r.name, d.why);
      return;
    }
    const server = this.config.servers.replicas.find((s) => s.name === r.name);
    if (!server) return;
    await this.locks.tryRun(r.name, `automatic ${d.repair}`, async () => {
      const started = Date.now();
      h.times.push(now);
      let error: string | null = null;
      try {
        await this.db.with(server, 'admin', async (conn) => {
          for (const s of d.statements) await run(conn, s);
        });
        h.pending = { kind: d.repair, at: now, confirmUntil: now + this.settings.confirmSeconds * 1000 };
      } catch (err) {
        error = describeError(err);
        this.disable(r.name, `${d.repair} failed: ${error}`);
      }
      this.audit.record({
        action: d.repair,
        replica: r.name,
        mode: 'auto',
        dryRun: false,
        reason: `automatic: ${d.why}`,
        outcome: error ? 'failed' : 'done',
        message: error ?? `ran; replication must keep running for ${this.settings.confirmSeconds} s for it to count as helping`,
        preconditions: [],
        statements: d.statements.map(render),
        durationMs: Date.now() - started,
        requestId: null,
      });
    });
  }

  private disable(replica: string, reason: string): void {
    this.of(replica).disabledReason = reason;
    this.logger.warn(`automatic repair turned off for ${replica}: ${reason}`);
  }
}
