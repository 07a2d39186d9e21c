import { ConflictException, HttpException, HttpStatus, Inject, Injectable, InternalServerErrorException, NotFoundException } from '@nestjs/common';
import type { ActionKind, ActionRecordDto, DriftReportDto, ReplicaAction } from '@vita/contracts';
import { ENV } from '@vita/runtime';
import { AuditService, type NewRecord } from '../audit/audit.service';
import { ReplicaLocks } from '../audit/replica-locks';
import type { ReplConfig } from '../config/config';
import type { ServerConfig } from '../config/servers';
import { Db } from '../db/db.service';
import { describeError, render } from '../db/sql';
import { planDrift } from '../drift/drift';
import { MetricsService } from '../metrics/metrics.service';
import { PollerService } from '../monitor/poller.service';
import { AutoRepairService } from '../repair/auto-repair.service';
import type { Plan, PlanContext } from './plan';
import { planReadOnly, planRebuild, planRepoint, planRestart } from './plans';

export interface ActionRequest {
  reason: string;
  dryRun?: boolean;
  host?: string;
  port?: number;
  force?: boolean;
  tlsCa?: string;
}

const PLANNERS: Record<ReplicaAction, (c: PlanContext) => Plan | Promise<Plan>> = {
  restart: planRestart,
  repoint: planRepoint,
  'read-only': planReadOnly,
  rebuild: planRebuild,
};

/** The body of an action that was refused (409) or failed (500): the audit record itself. */
const failure = (status: HttpStatus, record: ActionRecordDto) => new HttpException({ statusCode: status, error: status === HttpStatus.CONFLICT ? 'Conflict' : 'Action failed', ...record }, status);

/**
 * Manual actions and the drift check: one at a time per replica, preconditions checked against a fresh check,
 * dry-run shows the exact statements and changes nothing, every request (refused, dry-run, run) is audited.
 */
@Injectable()
export class ActionsService {
  constructor(
    @Inject(ENV) private readonly config: ReplConfig,
    private readonly db: Db,
    private readonly poller: PollerService,
    private readonly audit: AuditService,
    private readonly locks: ReplicaLocks,
    private readonly autoRepair: AutoRepairService,
    private readonly metrics: MetricsService,
  ) {}

  private server(name: string): ServerConfig {
    const server = this.config.all.find((s) => s.name === name);
    if (!server) throw new NotFoundException(`there is no server "${name.slice(0, 64)}"; servers are: ${this.config.all.map((s) => s.name).join(', ')}`);
    return server;
  }

  /** Plans, checks, audits and (unless dry-run) runs one action while holding the replica's lock. */
  private async conduct<R>(kind: ActionKind, name: string, body: ActionRequest, requestId: string | null, planner: (c: PlanContext) => Plan<R> | Promise<Plan<R>>) {
    const server = this.server(name);
    const result = await this.locks.tryRun(name, kind, async () => {
      const started = Date.now();
      const topology = await this.poller.refresh();
      const replica = topology.replicas.find((r) => r.name === name) ?? null;
      const plan = await planner({ config: this.config, db: this.db, topology, server, replica, body });
      const base = { action: kind, replica: name, mode: 'manual' as const, dryRun: body.dryRun === true, reason: body.reason.trim(), preconditions: plan.preconditions, requestId };
      const record = (outcome: NewRecord['outcome'], message: string, statements = plan.statements) =>
        this.audit.record({ ...base, outcome, message, statements: statements.map(render), durationMs: Date.now() - started });
      const refused = plan.preconditions.filter((p) => !p.ok);
      if (refused.length > 0) throw failure(HttpStatus.CONFLICT, record('refused', `refused: ${refused.map((p) => p.detail).join('; ')}`));
      if (base.dryRun) return { record: record('dry-run', 'dry run: nothing was changed; these statements would run'), found: undefined };
      try {
        const done = await plan.execute();
        return { record: record('done', done.message, done.statements), found: done.result };
      } catch (err) {
        throw failure(HttpStatus.INTERNAL_SERVER_ERROR, record('failed', describeError(err)));
      } finally {
        await this.poller.refresh().catch(() => undefined);
      }
    });
    if (!result.ran) throw new ConflictException(`${result.holder} is running on ${name}: try again when it is done`);
    return result.value;
  }

  /** A manual action; once one succeeds, automation may act on the replica again. */
  async perform(action: ReplicaAction, name: string, body: ActionRequest, requestId: string | null): Promise<ActionRecordDto> {
    const { record } = await this.conduct(action, name, body, requestId, PLANNERS[action]);
    if (record.outcome === 'done') this.autoRepair.reenable(name);
    return record;
  }

  /** The drift check on demand (audited like an action; the report is the reply). */
  async drift(name: string, requestId: string | null): Promise<DriftReportDto> {
    try {
      const { found } = await this.conduct('drift', name, { reason: 'drift check' }, requestId, planDrift);
      if (!found) throw new InternalServerErrorException('the drift check returned no report');
      this.metrics.driftChecks.inc({ replica: name, result: found.ok ? 'match' : 'differ' });
      this.metrics.driftTables.set({ replica: name }, found.differences.length);
      return found;
    } catch (err) {
      if (err instanceof HttpException && err.getStatus() >= 500) this.metrics.driftChecks.inc({ replica: name, result: 'error' });
      throw err;
    }
  }
}
