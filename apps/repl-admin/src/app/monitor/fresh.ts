/*
 * `GET /api/v1/topology?fresh=1` needs no token, and a check reads every server: what a fresh read
 * gets is decided here, so that a flood of them costs the servers at most one check per window.
 */

/** How a fresh read is answered (also the `X-Check` response header, with `queued` shown as `new`). */
export type FreshChoice =
  /** The newest completed check started within the window: it is the answer, at once. */
  | 'recent'
  /** The check in progress started within the window: its result is the answer. */
  | 'joined'
  /** No check is in progress and none qualifies: one starts now. */
  | 'new'
  /** The check in progress is too old to count: the answer is the next one, shared by every caller waiting for it. */
  | 'queued';

export interface FreshState {
  now: number;
  /** REPL_FRESH_MIN_INTERVAL_MS. */
  windowMs: number;
  /** When the newest completed check started (null: none yet). */
  latestStartedAt: number | null;
  /** When the check in progress started (null: none). */
  runningStartedAt: number | null;
  /** Whether a check is already queued behind the one in progress for fresh reads. */
  queued: boolean;
}

/** A fresh read accepts a check that started at most `windowMs` before it. */
export function chooseFresh(s: FreshState): FreshChoice {
  const floor = s.now - s.windowMs;
  if (s.latestStartedAt !== null && s.latestStartedAt >= floor) return 'recent';
  if (s.runningStartedAt !== null && s.runningStartedAt >= floor) return 'joined';
  if (s.runningStartedAt === null && !s.queued) return 'new';
  return 'queued';
}
