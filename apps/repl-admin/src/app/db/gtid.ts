/** One MariaDB GTID: `domain-server-sequence`. */
export interface Gtid {
  domain: number;
  server: number;
  seq: bigint;
}

/** Parses a GTID list such as `0-1-100,1-2-7` (blank or null: empty). */
export function parseGtids(list: string | null | undefined): Gtid[] {
  return (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const m = /^(\d+)-(\d+)-(\d+)$/.exec(s);
      if (!m) throw new Error(`not a GTID: ${s}`);
      return { domain: Number(m[1]), server: Number(m[2]), seq: BigInt(m[3]) };
    });
}

export const formatGtid = (g: Gtid): string => `${g.domain}-${g.server}-${g.seq}`;
export const formatGtids = (gs: Gtid[]): string => gs.map(formatGtid).join(',');

const byDomain = (list: string | null | undefined): Map<number, Gtid> => new Map(parseGtids(list).map((g) => [g.domain, g]));

/**
 * Domains in which `position` (a replica's gtid_slave_pos) lies before `startsAfter` (the GTID state the
 * primary's oldest binlog starts after): the events the replica needs next are purged, so it will fail with 1236.
 */
export function purgedPast(position: string | null, startsAfter: string | null): Gtid[] {
  const pos = byDomain(position);
  return parseGtids(startsAfter).filter((oldest) => {
    const have = pos.get(oldest.domain);
    return have === undefined ? oldest.seq > 0n : have.seq < oldest.seq;
  });
}

/**
 * Errant transactions: GTIDs in a replica's binlog state that the primary's binlog state does not contain
 * (written on the replica itself, or ahead of the primary in their domain).
 */
export function errantGtids(replicaState: string | null, primaryState: string | null, primaryPos: string | null): Gtid[] {
  const primary = parseGtids(primaryState);
  const newest = byDomain(primaryPos);
  return parseGtids(replicaState).filter((r) => {
    const same = primary.find((p) => p.domain === r.domain && p.server === r.server);
    const ahead = r.seq > (newest.get(r.domain)?.seq ?? 0n);
    return same === undefined || same.seq < r.seq || ahead;
  });
}
