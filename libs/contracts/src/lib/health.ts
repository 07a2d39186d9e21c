/** Outcome of one readiness check. `detail` is free-form, never secret. */
export interface HealthCheckResult {
  name: string;
  ok: boolean;
  /** Time the check took, in milliseconds. */
  durationMs: number;
  detail?: Record<string, unknown>;
  error?: string;
}

/** Body of `/health/live` and `/health/ready`. */
export interface HealthReport {
  status: 'ok' | 'fail';
  checks: HealthCheckResult[];
}
