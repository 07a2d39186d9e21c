import type { RecordType } from '@vita/dns-providers';
import type { DrainRecord, Endpoint, VantageView } from '../model';

/** What the controller remembers of an endpoint between rounds. */
export interface Memory {
  published: boolean;
  /** When `published` last changed (ms). */
  since: number;
  /** Since when it has served an older version than the newest healthy endpoint (ms); null: not behind. */
  behindSince: number | null;
  /** Why it was last withdrawn: only a node withdrawn on its health (down, stale) is held out on its return, not a drained one. */
  withdrawnFor?: Verdict;
}

export interface DecideSettings {
  /** A withdrawn endpoint is not published again before this long has passed since its withdrawal. */
  minHoldMs: number;
  /** An endpoint behind the newest version for this long is withdrawn (replication broken there); 0: never. */
  staleAfterMs: number;
}

export interface DecideInput {
  endpoints: Endpoint[];
  /** The views that count: fresh, and each past its first complete round (this controller's own included). */
  views: VantageView[];
  /** How many vantage points there are in all (this one and its peers). */
  vantages: number;
  /** The drain state per node, merged from every view (see mergeDrains). */
  drains: ReadonlyMap<string, DrainRecord>;
  memory: ReadonlyMap<string, Memory>;
  now: number;
  settings: DecideSettings;
}

/** Why an endpoint is, or is not, published. */
export type Verdict =
  | 'healthy'
  | 'down'
  | 'stale'
  | 'drained'
  | 'held'
  /** Withdrawn on its merits, published because its record set would otherwise be empty. */
  | 'fail-open';

export interface EndpointDecision extends Endpoint {
  published: boolean;
  verdict: Verdict;
  /** One line for people. */
  reason: string;
  /** Vantage points that judge it up, and down. */
  upVotes: string[];
  downVotes: string[];
  /** The newest version any vantage point saw it serve. */
  version: number | null;
}

export interface Decision {
  /** A majority of all the vantage points is heard from: only then may this controller change DNS. */
  quorum: boolean;
  endpoints: EndpointDecision[];
  /** The addresses to publish, per record type (sorted); [] when every endpoint of the type is drained; a type with no endpoint is absent. */
  records: Partial<Record<RecordType, string[]>>;
  /** The record types published whole because every endpoint of theirs was withdrawn. */
  failOpen: RecordType[];
  /** Every node is drained: this one, drained last, is kept in. */
  keptDrained: string | null;
  memory: Map<string, Memory>;
}

/** True when `a` follows `b`: a higher seq, then a later time, then a greater vantage name. */
export const newer = (a: DrainRecord, b: DrainRecord): boolean => a.seq > b.seq || (a.seq === b.seq && (a.at > b.at || (a.at === b.at && a.by > b.by)));

/** Pure: the newest drain record per node, from every view (highest seq, then time, then vantage name). */
export function mergeDrains(sets: Iterable<readonly DrainRecord[]>): Map<string, DrainRecord> {
  const merged = new Map<string, DrainRecord>();
  for (const set of sets) {
    for (const d of set) {
      const have = merged.get(d.node);
      if (have === undefined || newer(d, have)) merged.set(d.node, d);
    }
  }
  return merged;
}

/**
 * Pure: which endpoints to publish. An endpoint is down when a strict majority of the vantage points
 * that judged it say so (a tie keeps it). It is withdrawn when down, stale (behind the newest healthy
 * version for `staleAfterMs`), or drained; a withdrawn one comes back only after `minHoldMs`.
 * No record set is ever left empty while any of its nodes is not drained: when every endpoint of a
 * type is withdrawn, the held-out or stale ones are published, and failing those every undrained one.
 * When every node is drained, the one drained last counts as not drained. The version an endpoint
 * serves is the lower median of what the vantage points that see it up report.
 */
export function decide(input: DecideInput): Decision {
  const { endpoints, views, drains, memory, now, settings } = input;
  const quorum = views.length * 2 > input.vantages;
  // Every node drained (drains merged from several controllers can add up to that): the one drained
  // last stays in, so the name keeps an address.
  const nodes = [...new Set(endpoints.map((e) => e.node))];
  const drainedNodes = nodes.filter((n) => drains.get(n)?.drained === true);
  // (Drained last: by time, then vantage name; a seq counts actions on one node and says nothing across nodes.)
  const later = (a: DrainRecord, b: DrainRecord): boolean => a.at > b.at || (a.at === b.at && (a.by > b.by || (a.by === b.by && a.node > b.node)));
  const kept = drainedNodes.length === nodes.length && nodes.length > 0 ? drainedNodes.map((n) => drains.get(n) as DrainRecord).reduce((a, b) => (later(b, a) ? b : a)).node : null;
  const judged = endpoints.map((e) => {
    const upVotes: string[] = [];
    const downVotes: string[] = [];
    const versions: number[] = [];
    for (const v of views) {
      const seen = v.endpoints.find((x) => x.key === e.key);
      if (seen === undefined) continue;
      (seen.up ? upVotes : downVotes).push(v.vantage);
      if (seen.up && seen.last?.version !== undefined) versions.push(seen.last.version);
    }
    // The version the vantage points that see it up agree on: the lower median, so one view cannot raise it.
    versions.sort((a, b) => a - b);
    const version = versions.length > 0 ? versions[Math.floor((versions.length - 1) / 2)] : null;
    const healthy = !(downVotes.length * 2 > upVotes.length + downVotes.length);
    const drained = drains.get(e.node)?.drained === true && e.node !== kept;
    return { e, upVotes, downVotes, version, healthy, drained };
  });
  const newest = Math.max(-1, ...judged.filter((j) => j.healthy && !j.drained && j.version !== null).map((j) => j.version as number));
  const next = new Map<string, Memory>();
  const decided = judged.map((j): EndpointDecision & { behindSince: number | null } => {
    const before = memory.get(j.e.key);
    const behind = settings.staleAfterMs > 0 && j.healthy && newest >= 0 && (j.version ?? -1) < newest;
    const behindSince = behind ? (before?.behindSince ?? now) : null;
    const stale = behindSince !== null && now - behindSince >= settings.staleAfterMs;
    const base = { ...j.e, upVotes: j.upVotes, downVotes: j.downVotes, version: j.version, behindSince };
    const votes = `${j.downVotes.length} of ${j.upVotes.length + j.downVotes.length} vantage points see it down`;
    const drain = drains.get(j.e.node);
    if (j.drained) return { ...base, published: false, verdict: 'drained', reason: `${drain?.reason ?? ''} (${drain?.by ?? '?'}, ${drain?.at ?? '?'})` };
    if (!j.healthy) return { ...base, published: false, verdict: 'down', reason: votes };
    if (stale) return { ...base, published: false, verdict: 'stale', reason: `serves version ${j.version ?? 'none'} while version ${newest} is served elsewhere, for ${Math.round((now - (behindSince as number)) / 1000)} s` };
    const heldBack = before?.withdrawnFor === 'down' || before?.withdrawnFor === 'stale';
    if (before !== undefined && !before.published && heldBack && now - before.since < settings.minHoldMs) {
      return { ...base, published: false, verdict: 'held', reason: `healthy again; held out until ${new Date(before.since + settings.minHoldMs).toISOString()} (minimum hold)` };
    }
    const up = `${j.upVotes.length} of ${j.upVotes.length + j.downVotes.length} vantage points see it up`;
    const lastNode = j.e.node === kept ? `; drained, but every node is drained: ${j.e.node}, drained last, is kept in` : '';
    return { ...base, published: true, verdict: 'healthy', reason: `${up}${lastNode}` };
  });
  const failOpen: RecordType[] = [];
  for (const type of ['A', 'AAAA'] as const) {
    const ofType = decided.filter((d) => d.type === type);
    if (ofType.length === 0 || ofType.some((d) => d.published)) continue;
    const fallbacks = [ofType.filter((d) => d.verdict === 'stale' || d.verdict === 'held'), ofType.filter((d) => d.verdict !== 'drained')];
    const chosen = fallbacks.find((f) => f.length > 0);
    if (chosen === undefined) continue;
    failOpen.push(type);
    for (const d of chosen) {
      d.published = true;
      d.reason = `${d.reason}; published anyway: every ${type} record is withdrawn (fail open)`;
      d.verdict = 'fail-open';
    }
  }
  const records: Partial<Record<RecordType, string[]>> = {};
  for (const d of decided) records[d.type] ??= [];
  for (const d of decided) {
    const before = memory.get(d.key);
    const changed = before === undefined || before.published !== d.published;
    // A withdrawal keeps the reason it was made for (a held one stays held for that reason).
    const withdrawnFor = d.published ? undefined : changed || before?.withdrawnFor === undefined ? d.verdict : before.withdrawnFor;
    next.set(d.key, { published: d.published, since: changed ? now : before.since, behindSince: d.behindSince, ...(withdrawnFor ? { withdrawnFor } : {}) });
    if (d.published) (records[d.type] ??= []).push(d.address);
  }
  for (const list of Object.values(records)) list.sort();
  return { quorum, endpoints: decided.map(({ behindSince: _b, ...d }) => d), records, failOpen, keptDrained: kept, memory: next };
}
