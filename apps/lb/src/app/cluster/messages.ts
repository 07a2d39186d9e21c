import type { RouteState } from '../balancer/backend';
import type { LbConfig } from '../config/config';
import type { PlaneSnapshot } from '../stats/counters';

/** Primary → worker. */
export type ToWorker =
  | { t: 'config'; config: LbConfig; planes: number }
  | { t: 'routes'; routes: RouteState[] }
  | { t: 'snapshot'; id: number }
  /** The HTTPS session ticket key (48 bytes, base64): sent before the first config and at each rotation. */
  | { t: 'tickets'; key: string }
  /** Read the HTTPS certificate files again. */
  | { t: 'certificates' }
  | { t: 'drain'; ms: number };

/** Worker → primary. */
export type ToPrimary =
  | { t: 'listening' }
  | { t: 'failed'; error: string }
  | { t: 'passive'; name: string; reason: string }
  | { t: 'snapshot'; id: number; snapshot: PlaneSnapshot };
