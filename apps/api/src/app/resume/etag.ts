/** What an If-Match header asks of a write (RFC 9110 §13.1.1). */
export type IfMatch =
  /** no header: the write is unconditional */
  | { kind: 'none' }
  /** `*`: a stored document exists */
  | { kind: 'exists' }
  /** a list of entity tags, each with its quotes: one strong tag equal to the current ETag */
  | { kind: 'tags'; strong: string[]; weak: string[] };

/** A malformed If-Match header; the message names the header and the part at fault. */
export class BadIfMatchError extends Error {}

const ENTITY_TAG = /^(W\/)?("[\x21\x23-\x7E\x80-\xFF]*")$/;
const shown = (s: string): string => JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);

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

export function parseIfMatch(header: string | undefined): IfMatch {
  if (header === undefined) return { kind: 'none' };
  if (header.trim() === '*') return { kind: 'exists' };
  const strong: string[] = [];
  const weak: string[] = [];
  const list = members(header);
  if (list.length === 0) throw new BadIfMatchError('the If-Match header is empty: send "*" or entity tags such as "v3"');
  for (const member of list) {
    const tag = ENTITY_TAG.exec(member);
    if (!tag) {
      const hint = member === '*' ? '"*" cannot be part of a list' : 'an entity tag is quoted, e.g. "v3"';
      throw new BadIfMatchError(`the If-Match header is malformed at ${shown(member)}: ${hint}`);
    }
    (tag[1] ? weak : strong).push(tag[2]);
  }
  return { kind: 'tags', strong, weak };
}

/** The ETag of a version of the document, or of one section of it. */
export const etagOf = (version: number, section?: string): string => `"v${version}${section ? `-${section}` : ''}"`;

/** True when an If-None-Match header names this ETag (weak comparison, RFC 9110 §13.1.2) or is `*`. */
export function ifNoneMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

/** Whether the write may go ahead, given the stored version (undefined: nothing is stored). */
export function ifMatchHolds(condition: IfMatch, current: number | undefined): boolean {
  if (condition.kind === 'none') return true;
  if (current === undefined) return false;
  return condition.kind === 'exists' || condition.strong.includes(etagOf(current));
}

/** Why a write was refused with 412. */
export function preconditionFailure(condition: IfMatch, current: number | undefined): string {
  if (current === undefined) return 'If-Match requires a stored résumé and there is none: run the migrations';
  const at = `the résumé is at version ${current} (ETag ${etagOf(current)})`;
  if (condition.kind !== 'tags') return at;
  const weak = condition.weak.length
    ? `weak entity tags (${condition.weak.map((t) => `W/${t}`).join(', ')}) never match: If-Match compares strongly (RFC 9110 §13.1.1)`
    : '';
  if (condition.strong.length === 0) return `${weak}; ${at}`;
  return `${at}, not ${condition.strong.join(', ')}: fetch it again first${weak ? `; ${weak}` : ''}`;
}
