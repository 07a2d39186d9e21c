import { Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import type { HealthCheckResult as TerminusReport } from '@nestjs/terminus';
import type { HealthCheckResult, HealthReport } from '@vita/contracts';
import { DEFAULT_TIMEOUT_MS, HEALTH_OPTIONS, HealthIndicator, HealthModuleOptions, SHUTDOWN_CHECK } from './health.types';

/** What each indicator leaves in terminus's result beside its `status`. */
type CheckData = {
  durationMs: number;
  detail?: Record<string, unknown>;
  error?: string;
};

/**
 * Runs the readiness indicators through terminus's HealthCheckService, each bounded by the timeout,
 * and turns its result into a HealthReport. Terminus logs nothing; this logs one line when readiness
 * changes (which checks failed and why), not one per probe.
 */
@Injectable()
export class HealthService {
  private readonly logger = new Logger('Health');
  private readonly timeoutMs: number;
  private lastStatus: HealthReport['status'] | undefined;

  constructor(
    @Inject(HEALTH_OPTIONS) private readonly options: HealthModuleOptions,
    private readonly terminus: HealthCheckService,
    private readonly sessions: HealthIndicatorService,
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  live(): HealthReport {
    return { status: 'ok', checks: [] };
  }

  async ready(): Promise<HealthReport> {
    const indicators = this.options.indicators;
    const result = await this.terminus.check(indicators.map((i) => () => this.run(i))).catch((err: unknown) => {
      if (err instanceof ServiceUnavailableException) return err.getResponse() as TerminusReport;
      throw err;
    });
    const checks = indicators.map((i) => toCheck(i.name, result.details));
    if (result.status === 'shutting_down') checks.push({ name: SHUTDOWN_CHECK, ok: false, durationMs: 0, error: 'the service is shutting down' });
    const report: HealthReport = { status: result.status === 'ok' ? 'ok' : 'fail', checks };
    this.logChange(report);
    return report;
  }

  private async run(indicator: HealthIndicator): Promise<HealthIndicatorResult> {
    const session = this.sessions.check(indicator.name);
    const started = performance.now();
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const outcome = await Promise.race([indicator.check(signal), rejectOnAbort(signal, `no answer within ${this.timeoutMs} ms`)]);
      const data: CheckData = { durationMs: elapsed(started), ...pick(outcome) };
      return outcome.ok === true ? session.up(data) : session.down(data);
    } catch (err) {
      return session.down({ durationMs: elapsed(started), error: err instanceof Error ? err.message : String(err) });
    }
  }

  private logChange(report: HealthReport): void {
    if (report.status === this.lastStatus) return;
    const wasKnown = this.lastStatus !== undefined;
    this.lastStatus = report.status;
    if (report.status === 'ok') {
      if (wasKnown) this.logger.log('ready again: every readiness check passes');
      return;
    }
    const failed = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.error ?? 'failed'}`);
    this.logger.warn(`not ready: ${failed.join('; ')}`);
  }
}

function toCheck(name: string, details: TerminusReport['details']): HealthCheckResult {
  const entry: ({ status: string } & Partial<CheckData>) | undefined = details[name];
  if (entry === undefined) return { name, ok: false, durationMs: 0, error: 'no result' };
  const { status, durationMs = 0, detail, error } = entry;
  return { name, ok: status === 'up', durationMs, ...pick({ detail, error }) };
}

function pick(outcome: Pick<CheckData, 'detail' | 'error'>): Pick<CheckData, 'detail' | 'error'> {
  return { ...(outcome.detail !== undefined && { detail: outcome.detail }), ...(outcome.error !== undefined && { error: outcome.error }) };
}

function rejectOnAbort(signal: AbortSignal, message: string): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error(message)), { once: true }));
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
