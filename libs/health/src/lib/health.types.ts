import type { HealthCheckResult } from '@vita/contracts';

/** What an indicator reports; the module adds the name and the timing. */
export type IndicatorOutcome = Pick<HealthCheckResult, 'ok' | 'detail' | 'error'>;

/** One readiness check: a dependency the service needs to do its work. */
export interface HealthIndicator {
  readonly name: string;
  check(): Promise<IndicatorOutcome>;
}

export interface HealthModuleOptions {
  /** Readiness checks. Liveness never runs them. */
  indicators: HealthIndicator[];
  /** A check that takes longer than this fails (default 2000 ms). */
  timeoutMs?: number;
}

export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');
