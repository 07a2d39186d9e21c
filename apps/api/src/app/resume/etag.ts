/** What an If-Match header asks of a write (RFC 9110 §13.1.1). */
export type IfMatch =
  /** no header: the write is unconditional */
  | { kind: 'none' }
  /** `*`: a stored document exists */
  | { kind: 'exists' }
  /** a list of entity tags, each with its quotes: one strong tag equal to the current ETag */
  | { kind: 'tags'; strong: string[]; weak: string[] };

/** A malformed entity-tag list header (If-Match); the message names the header and the part at fault. */
export class BadIfMatchError extends Error {}

const ENTITY_TAG = /^(W\/)?("[\x21\x23-\x7E\x80-\xFF]*")$/;
const shown = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

/** Most characters of a request header any message quotes back. */
export const QUOTE_LIMIT = 100;

/**
 * `items` joined with ", ", cut to about `limit` characters of them: whole items while they fit (a
 * first one longer than that, shortened), then how many there are in all when some are left out.
 */
export function excerpt(items: string[], limit = QUOTE_LIMIT): string {
  const out: string[] = [];
  let used = 0;
  for (const item of items) {
    const cost = item.length + (out.length > 0 ? 2 : 0);
    if (used + cost > limit) break;
    out.push(item);
    used += cost;
  }
  if (out.length === items.length) return out.join(', ');
  if (out.length === 0 && items.length === 1) return `${items[0].slice(0, limit)}…`;
  const head = out.length > 0 ? out.join(', ') : `${items[0].slice(0, limit)}…`;
  return `${head}, … (${items.length} in all)`;
}

/** Splits a header list at commas outside quoted strings (a comma may be part of an entity tag). */
function members(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '"') quoted = !quoted;
    else if (value[i] === ',' && !quoted) {
      out.push(value.slice(start, i));
      start = i + 1;
    }
  }
  out.push(value.slice(start));
  return out.map((m) => m.trim()).filter((m) => m !== '');
}

/** An entity-tag list header (If-Match, If-None-Match): `*`, or tags, each with its quotes, strong or weak. */
type TagList = { kind: 'any' } | { kind: 'tags'; strong: string[]; weak: string[] };

/**
 * The one parser of entity-tag list headers (RFC 9110 §8.8.3, §13.1.1-2): `*` alone, or a list of
 * entity tags split at commas outside quotes. A malformed value throws, naming `header` and the
 * part at fault (at most 40 characters of it).
 */
function parseTagList(value: string, header: string): TagList {
  if (value.trim() === '*') return { kind: 'any' };
  const strong: string[] = [];
  const weak: string[] = [];
  const list = members(value);
  if (list.length === 0) throw new BadIfMatchError(`the ${header} header is empty: send "*" or entity tags such as "v3"`);
  for (const member of list) {
    const tag = ENTITY_TAG.exec(member);
    if (!tag) {
      const hint = member === '*' ? '"*" cannot be part of a list' : 'an entity tag is quoted, e.g. "v3"';
      throw new BadIfMatchError(`the ${header} header is malformed at ${shown(member)}: ${hint}`);
    }
    (tag[1] ? weak : strong).push(tag[2]);
  }
  return { kind: 'tags', strong, weak };
}

export function parseIfMatch(header: string | undefined): IfMatch {
  if (header === undefined) return { kind: 'none' };
  const list = parseTagList(header, 'If-Match');
  return list.kind === 'any' ? { kind: 'exists' } : list;
}

/** The ETag of a version of the document, or of one section of it. */
export const etagOf = (version: number, section?: string): string => `"v${version}${section ? `-${section}` : ''}"`;

/**
 * True when an If-None-Match header names this ETag (weak comparison, RFC 9110 §13.1.2) or is `*`.
 * A malformed header is ignored (the full answer is always a correct one).
 */
export function ifNoneMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  let list: TagList;
  try {
    list = parseTagList(ifNoneMatch, 'If-None-Match');
  } catch {
    return false;
  }
  return list.kind === 'any' || list.strong.includes(etag) || list.weak.includes(etag);
}

/** Whether the write may go ahead, given the stored version (undefined: nothing is stored). */
export function ifMatchHolds(condition: IfMatch, current: number | undefined): boolean {
  if (condition.kind === 'none') return true;
  if (current === undefined) return false;
  return condition.kind === 'exists' || condition.strong.includes(etagOf(current));
}

/** Why a write was refused with 412; quotes at most about QUOTE_LIMIT characters of the header. */
export function preconditionFailure(condition: IfMatch, current: number | undefined): string {
  if (current === undefined) return 'If-Match requires a stored résumé and there is none: run the migrations';
  const at = `the résumé is at version ${current} (ETag ${etagOf(current)})`;
  if (condition.kind !== 'tags') return at;
  const strong = condition.strong.length ? excerpt(condition.strong) : '';
  const weakLimit = Math.max(QUOTE_LIMIT - strong.length, 20);
  const weak = condition.weak.length
    ? `weak entity tags (${excerpt(condition.weak.map((t) => `W/${t}`), weakLimit)}) never match: If-Match compares strongly (RFC 9110 §13.1.1)`
    : '';
  if (condition.strong.length === 0) return `${weak}; ${at}`;
  return `${at}, not ${strong}: fetch it again first${weak ? `; ${weak}` : ''}`;
}
