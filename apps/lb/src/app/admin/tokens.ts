/** Injection tokens of the admin plane. */
export const CONTROL_PLANE = Symbol('CONTROL_PLANE');

/** The stats token (`LB_STATS_TOKEN`): guards the stats page, /stats and /metrics when set. */
export const STATS_TOKEN = Symbol('STATS_TOKEN');
