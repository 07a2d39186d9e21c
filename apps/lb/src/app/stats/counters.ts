import { LB_ERROR_KINDS, type LbErrorKind, type LbLatency, type LbResponses } from '@vita/contracts';

/*
 * Counters a data plane keeps on its hot path: plain numbers and arrays, no labels or maps per
 * request. Snapshots are plain JSON (they cross the cluster IPC channel) and add up across workers.
 */

/** Upper bounds (ms) of the latency histogram buckets; the last bucket is open-ended. */
export const LATENCY_BOUNDS_MS = [0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000, 60_000];

export const newHistogram = (): number[] => new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);

export function observe(histogram: number[], ms: number): void {
  let i = 0;
  while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]) i++;
  histogram[i]++;
}

/** The q-quantile, interpolated linearly inside its bucket. */
function quantile(histogram: number[], count: number, q: number): number {
  const rank = q * count;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    if (histogram[i] === 0 || seen + histogram[i] < rank) {
      seen += histogram[i];
      continue;
    }
    const low = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1];
    const high = LATENCY_BOUNDS_MS[i] ?? low;
    return Math.round((low + ((high - low) * (rank - seen)) / histogram[i]) * 100) / 100;
  }
  return 0;
}

export function latency(histogram: number[]): LbLatency {
  const count = histogram.reduce((a, b) => a + b, 0);
  return { count, p50Ms: quantile(histogram, count, 0.5), p90Ms: quantile(histogram, count, 0.9), p99Ms: quantile(histogram, count, 0.99) };
}

/** Index 0 → 1xx … 4 → 5xx. */
export const newClasses = (): number[] => [0, 0, 0, 0, 0];
export const statusClass = (status: number): number => Math.min(4, Math.max(0, Math.floor(status / 100) - 1));
export const responses = (classes: number[]): LbResponses => ({ '1xx': classes[0], '2xx': classes[1], '3xx': classes[2], '4xx': classes[3], '5xx': classes[4] });

export type ErrorCounts = Record<LbErrorKind, number>;
export const newErrorCounts = (): ErrorCounts => Object.fromEntries(LB_ERROR_KINDS.map((k) => [k, 0])) as ErrorCounts;

/** One backend as one data plane saw it. */
export interface BackendCounters {
  active: number;
  total: number;
  retries: number;
  classes: number[];
  errors: ErrorCounts;
  histogram: number[];
}

export const newBackendCounters = (): BackendCounters => ({ active: 0, total: 0, retries: 0, classes: newClasses(), errors: newErrorCounts(), histogram: newHistogram() });

export interface FrontendCounters {
  connections: number;
  /** New connections refused, by the limit that refused them. */
  connectionsRefused: { maxConnections: number; maxConnectionsPerAddress: number };
  /** Idle connections closed to stay within limits.maxIdleConnections or to free descriptors. */
  idleClosed: number;
  /** Errors of the listening socket (out of descriptors, say); accepting goes on. */
  acceptErrors: number;
  /** limits.maxConnections in force (lowered to what descriptors allow); set at snapshot time. */
  connectionLimit: number;
  /** Access-log and lb-log lines dropped because their destination was too slow; set at snapshot time. */
  accessLogDropped: number;
  logDropped: number;
  active: number;
  total: number;
  classes: number[];
  rejected: number;
  noBackend: number;
  queued: number;
  queueTimeouts: number;
  queueFull: number;
  clientAborts: number;
  websockets: number;
  histogram: number[];
}

export const newFrontendCounters = (): FrontendCounters => ({
  connections: 0,
  connectionsRefused: { maxConnections: 0, maxConnectionsPerAddress: 0 },
  idleClosed: 0,
  acceptErrors: 0,
  connectionLimit: 0,
  accessLogDropped: 0,
  logDropped: 0,
  active: 0,
  total: 0,
  classes: newClasses(),
  rejected: 0,
  noBackend: 0,
  queued: 0,
  queueTimeouts: 0,
  queueFull: 0,
  clientAborts: 0,
  websockets: 0,
  histogram: newHistogram(),
});

/** What one data plane reports: its frontend and each backend by name, plus its memory. */
export interface PlaneSnapshot {
  pid: number;
  frontend: FrontendCounters;
  backends: Record<string, BackendCounters>;
  rssBytes: number;
}

type Numeric = number | number[] | { [key: string]: Numeric };
type Tree = { [key: string]: Numeric };

/** Adds the counters of `from` into `into`, key by key (numbers, arrays of numbers, nested records). */
export function addInto<T extends object>(into: T, from: T): T {
  const target = into as unknown as Tree;
  for (const [key, value] of Object.entries(from as unknown as Tree)) {
    const current = target[key];
    if (typeof value === 'number') target[key] = (typeof current === 'number' ? current : 0) + value;
    else if (Array.isArray(value)) target[key] = value.map((v, i) => v + (Array.isArray(current) ? (current[i] ?? 0) : 0));
    else target[key] = addInto((typeof current === 'object' && !Array.isArray(current) ? current : {}) as Tree, value);
  }
  return into;
}
