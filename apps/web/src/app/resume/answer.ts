import { createHash } from 'node:crypto';
import type { JsonResume } from '@vita/contracts';
import type { ApiAnswer } from '../upstream/api-pool';
import { versionOf } from './version';

/** What web holds of the copy, as far as judging an answer goes. */
export interface Held {
  /** Undefined for an unversioned copy (an answer that carried no `"v<n>"` ETag). */
  version?: number;
  /** The body as the api gave it. */
  json: string;
  /** The api's ETag as it came (`"v<n>"` or `W/"v<n>"`), sent as If-None-Match; undefined for an unversioned copy. */
  ifNoneMatch?: string;
}

/** A document taken from an answer. */
export interface Taken {
  document: JsonResume;
  json: string;
  version?: number;
  /** web's own ETag of the JSON: `"v<n>"` for a version, a hash of the body for an unversioned document. */
  etag: string;
  ifNoneMatch?: string;
}

/** What an api's answer means for the copy: it is still current, it is behind the copy, or it brings a document. */
export type Verdict = { kind: 'confirmed' } | { kind: 'older'; version: number } | { kind: 'document'; taken: Taken };

/**
 * Judges an answer to `GET /api/v1/resume` against the copy held (if any). Throws on an answer web
 * cannot use (the pool then counts it as that instance's failure and asks the next one):
 * - a 304 when nothing was asked conditionally, or one naming a version other than the copy's;
 * - a 200 without a `"v<n>"` ETag (strong or weak) while a versioned copy is held: web cannot tell
 *   whether it is newer, and a versioned copy is never replaced by an unversioned one;
 * - a body that is not a JSON object.
 * A 200 without a version ETag is taken, as an unversioned document, only while no versioned copy
 * is held; one with a version older than the copy's is not an error (an api behind another), it is
 * just not taken.
 */
export function judgeAnswer(answer: ApiAnswer, held: Held | undefined): Verdict {
  const version = versionOf(answer.etag);
  if (answer.status === 304) {
    if (!held?.ifNoneMatch) throw new Error('answered 304 to an unconditional request');
    if (answer.etag && version !== held.version) throw new Error(`answered 304 with ETag ${shown(answer.etag)} to If-None-Match ${held.ifNoneMatch}`);
    return { kind: 'confirmed' };
  }
  if (version === undefined) {
    if (held?.version !== undefined) throw new Error(`answered without a "v<n>" ETag (${answer.etag ? shown(answer.etag) : 'none'}) while web holds v${held.version}`);
    if (held && held.json === answer.body) return { kind: 'confirmed' };
    return { kind: 'document', taken: { document: parseDocument(answer.body), json: answer.body, etag: `"u-${createHash('sha256').update(answer.body).digest('base64url').slice(0, 22)}"` } };
  }
  if (held?.version !== undefined && version < held.version) return { kind: 'older', version };
  if (held?.version === version) return { kind: 'confirmed' };
  return { kind: 'document', taken: { document: parseDocument(answer.body), json: answer.body, version, etag: `"v${version}"`, ifNoneMatch: answer.etag as string } };
}

function parseDocument(body: string): JsonResume {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    throw new Error(`answered a body that is not JSON (${(err as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('answered JSON that is not an object');
  return parsed as JsonResume;
}

/** An ETag as it may be quoted in a message: at most 40 characters of it. */
function shown(etag: string): string {
  return etag.length > 40 ? `${etag.slice(0, 40)}…` : etag;
}
