import { Inject, Injectable } from '@nestjs/common';
import type { HealthCheckResult, HealthReport } from '@vita/contracts';
import { HEALTH_OPTIONS, HealthIndicator, HealthModuleOptions } from './health.types';

const DEFAULT_TIMEOUT_MS = 2000;

@Injectable()
export class HealthService {
  constructor(@Inject(HEALTH_OPTIONS) private readonly options: HealthModuleOptions) {}

  live(): HealthReport {
    return { status: 'ok', checks: [] };
  }

  async ready(): Promise<HealthReport> {
    const checks = await Promise.all(this.options.indicators.map((i) => this.run(i)));
    return { status: checks.every((c) => c.ok) ? 'ok' : 'fail', checks };
  }

  private async run(indicator: HealthIndicator): Promise<HealthCheckResult> {
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const outcome = await Promise.race([indicator.check(), timeout]);
      return { name: indicator.name, durationMs: elapsed(started), ...outcome };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      return { name: indicator.name, ok: false, durationMs: elapsed(started), error };
    } finally {
      clearTimeout(timer);
    }
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}
