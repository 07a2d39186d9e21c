import { promisify } from 'node:util';
import { brotliCompress, brotliCompressSync, constants, gzip, gzipSync } from 'node:zlib';

/** The content codings web sends: Brotli, gzip, or the body as it is. */
export type Encoding = 'br' | 'gzip' | 'identity';

/** Most preferred first, when a client accepts several as much. */
const PREFERENCE: readonly Encoding[] = ['br', 'gzip', 'identity'];

/** One body in every coding worth sending: a compressed one only where it is smaller. */
export type EncodedBodies = Partial<Record<Encoding, Buffer>> & { identity: Buffer };

const brotliOptions = (size: number) => ({ params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: size } });
const GZIP_OPTIONS = { level: 9 };

/** Below this, compressing costs more than it saves (a frame's overhead is most of it). */
const MIN_BYTES = 256;

function keepSmaller(identity: Buffer, br: Buffer | undefined, gz: Buffer | undefined): EncodedBodies {
  const bodies: EncodedBodies = { identity };
  if (br !== undefined && br.length < identity.length) bodies.br = br;
  if (gz !== undefined && gz.length < identity.length) bodies.gzip = gz;
  return bodies;
}

/** Compresses a body once, at the highest settings (it is sent many times): Brotli and gzip. */
export async function encodeAll(body: Buffer): Promise<EncodedBodies> {
  if (body.length < MIN_BYTES) return { identity: body };
  const [br, gz] = await Promise.all([promisify(brotliCompress)(body, brotliOptions(body.length)), promisify(gzip)(body, GZIP_OPTIONS)]);
  return keepSmaller(body, br, gz);
}

/** The same, synchronously: for the static files, read once at start-up. */
export function encodeAllSync(body: Buffer): EncodedBodies {
  if (body.length < MIN_BYTES) return { identity: body };
  return keepSmaller(body, brotliCompressSync(body, brotliOptions(body.length)), gzipSync(body, GZIP_OPTIONS));
}

/** The q-value of each coding named in an Accept-Encoding header (`*` included), or null when it does not parse. */
function qualities(header: string): Map<string, number> | null {
  const found = new Map<string, number>();
  for (const member of header.split(',')) {
    const [token, ...params] = member.split(';').map((s) => s.trim().toLowerCase());
    if (token === '') continue;
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(token)) return null;
    let q = 1;
    for (const param of params) {
      const m = /^q=(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.exec(param);
      if (m) q = Number(m[1]);
      else if (param.startsWith('q=')) return null;
    }
    // A coding named twice: the first says it (RFC 9110 leaves this open; the first is what most servers take).
    if (!found.has(token)) found.set(token, q);
  }
  return found;
}

/**
 * Pure: the coding to send for an Accept-Encoding header (RFC 9110 §12.5.3), among those `available`.
 * No header, or one that does not parse: the body as it is. Otherwise the available coding with the
 * highest q-value above 0 (a coding not named takes `*`'s; identity, not named, comes last unless `*;q=0`),
 * Brotli before gzip before identity on a tie. When the client excludes every coding available, the
 * body goes as it is all the same: a response it can read as text beats a 406 page.
 */
export function pickEncoding(header: string | undefined, available: readonly Encoding[] = PREFERENCE): Encoding {
  if (header === undefined || header === '') return 'identity';
  const q = qualities(header);
  if (q === null) return 'identity';
  const star = q.get('*');
  let best: Encoding = 'identity';
  let bestQ = 0;
  for (const coding of PREFERENCE) {
    if (!available.includes(coding)) continue;
    // identity not named is acceptable, last of all; excluded only by `*;q=0`.
    const value = q.get(coding) ?? (coding === 'identity' ? (star === 0 ? 0 : 0.001) : (star ?? 0));
    if (value > bestQ) {
      best = coding;
      bestQ = value;
    }
  }
  return best;
}

/** pickEncoding with the answers to the headers seen most kept (a browser sends the same one every time). */
export class EncodingChooser {
  private readonly seen = new Map<string, Encoding>();

  constructor(private readonly capacity = 64) {}

  choose(header: string | undefined, bodies: EncodedBodies): Encoding {
    if (header === undefined || header === '') return 'identity';
    let picked = this.seen.get(header);
    if (picked === undefined) {
      picked = pickEncoding(header);
      // Bounded: a client sending a new header each time only ever costs a parse.
      if (this.seen.size >= this.capacity) this.seen.clear();
      if (header.length <= 256) this.seen.set(header, picked);
    }
    if (bodies[picked] !== undefined) return picked;
    return pickEncoding(header, (Object.keys(bodies) as Encoding[]));
  }
}

/** The ETag of one coding of a representation: `"v3-abc"` → `"v3-abc-br"` (identity keeps the tag). */
export function encodedTag(etag: string, encoding: Encoding): string {
  if (encoding === 'identity') return etag;
  const suffix = encoding === 'br' ? 'br' : 'gz';
  return etag.endsWith('"') ? `${etag.slice(0, -1)}-${suffix}"` : `${etag}-${suffix}`;
}
