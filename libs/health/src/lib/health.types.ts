import type { HealthCheckResult } from '@vita/contracts';

/** What an indicator reports; the module adds the name and the timing. */
export type IndicatorOutcome = Pick<HealthCheckResult, 'ok' | 'detail' | 'error'>;

/** One readiness check: a dependency the service needs to do its work. */
export interface HealthIndicator {
  readonly name: string;
  /** `signal` aborts when the check has run out of time; its result is then ignored. */
  check(signal: AbortSignal): Promise<IndicatorOutcome>;
}

export interface HealthModuleOptions {
  /** Readiness checks, each under its own unique name. Liveness never runs them. */
  indicators: HealthIndicator[];
  /** A check that takes longer than this fails (default 2000 ms). */
  timeoutMs?: number;
}

export const HEALTH_OPTIONS = Symbol('HEALTH_OPTIONS');

export const DEFAULT_TIMEOUT_MS = 2000;

/** The check `/health/ready` adds once the service has begun shutting down: it should get no new traffic. */
export const SHUTDOWN_CHECK = 'shutdown';

/** Returns `options` when they are usable, else throws naming the field at fault. */
export function validateHealthOptions(options: HealthModuleOptions): HealthModuleOptions {
  const { indicators, timeoutMs } = options;
  if (!Array.isArray(indicators)) throw new Error('HealthModule: indicators must be an array of { name, check }');
  const seen = new Set<string>();
  indicators.forEach((indicator, i) => {
    if (typeof indicator?.name !== 'string' || indicator.name.trim() === '') throw new Error(`HealthModule: indicators[${i}].name must be a non-empty string`);
    if (typeof indicator.check !== 'function') throw new Error(`HealthModule: indicators[${i}].check must be a function`);
    if (indicator.name === SHUTDOWN_CHECK) throw new Error(`HealthModule: indicators[${i}].name "${SHUTDOWN_CHECK}" is reserved for the shutdown check`);
    if (seen.has(indicator.name)) throw new Error(`HealthModule: indicators[${i}].name "${indicator.name}" is used by another indicator`);
    seen.add(indicator.name);
  });
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new Error(`HealthModule: timeoutMs must be a positive number of milliseconds, not ${String(timeoutMs)}`);
  }
  return options;
}
