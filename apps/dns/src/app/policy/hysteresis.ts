import type { EndpointView, ProbeResult } from '../model';

/** A vantage point's running judgement of one endpoint. */
export interface Judgement {
  up: boolean;
  /** Consecutive probes that disagree with `up` (a fall or rise in progress). */
  streak: number;
  /** When `up` last changed (ms since the epoch). */
  since: number;
  last: ProbeResult | null;
}

/**
 * Pure: the judgement after one more probe. The first probe decides at once (no endpoint is assumed
 * down, or up, before it has been seen); after that it takes `fall` failed probes in a row to judge an
 * endpoint down and `rise` good ones in a row to judge it up again.
 */
export function judge(previous: Judgement | undefined, probe: ProbeResult, rules: { fall: number; rise: number }, now: number): Judgement {
  if (previous === undefined) return { up: probe.ok, streak: 0, since: now, last: probe };
  if (probe.ok === previous.up) return { ...previous, streak: 0, last: probe };
  const streak = previous.streak + 1;
  if (streak >= (previous.up ? rules.fall : rules.rise)) return { up: probe.ok, streak: 0, since: now, last: probe };
  return { ...previous, streak, last: probe };
}

export const viewOf = (key: string, j: Judgement): EndpointView => ({ key, up: j.up, since: new Date(j.since).toISOString(), last: j.last });
