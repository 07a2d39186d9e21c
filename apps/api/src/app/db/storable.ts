import type { ResumeViolation } from '@vita/contracts';

/**
 * Levels of arrays and objects a stored document may have, the document itself being the first.
 * MariaDB's JSON functions stop at 32 levels, so the JSON_VALID check of a JSON column refuses
 * anything deeper than 31; the top-level extras column holds its keys one level down from its own
 * root, exactly as deep as they are in the document, and every other JSON column sits deeper in
 * the document than in itself. The bound also keeps every walk over a document short.
 */
export const MAX_DEPTH = 31;

/** At most this many problems are listed; a 1 MiB body could hold a hundred thousand. */
export const MAX_REPORTED = 20;

/** A lone UTF-16 surrogate: a high one not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const MESSAGES = {
  depth: `nests arrays and objects more than ${MAX_DEPTH} levels deep (counting the document), more than can be stored`,
  surrogate: 'holds a lone UTF-16 surrogate, which is not Unicode text and cannot be stored as sent',
  surrogateKey: 'is a key holding a lone UTF-16 surrogate, which is not Unicode text and cannot be stored as sent',
  number: 'is a number beyond ±1.7976931348623157e308, which cannot be stored as sent',
} as const;

const isContainer = (v: unknown): v is Record<string, unknown> | unknown[] => typeof v === 'object' && v !== null;

const childPath = (base: string, container: unknown, key: string): string =>
  Array.isArray(container) ? `${base}[${key}]` : base ? `${base}.${key}` : key;

/**
 * What of a parsed JSON document (one validateResume accepts or not) the store could not give back
 * exactly as it came: nesting deeper than MAX_DEPTH, a string or key holding a lone surrogate (the
 * text columns hold UTF-8, which has no such thing; the JSON columns' check refuses its `\ud800`
 * escape), and a number JSON.parse could only read as ±Infinity (which would come back as null).
 * Document order, at most MAX_REPORTED; empty when the document can be stored. Iterative: never
 * deeper than MAX_DEPTH + 1, whatever the input.
 */
export function storageViolations(doc: unknown): ResumeViolation[] {
  const out: ResumeViolation[] = [];
  const stack: { value: unknown; path: string; depth: number; key?: string }[] = [{ value: doc, path: '', depth: 1 }];
  while (stack.length > 0 && out.length < MAX_REPORTED) {
    const { value, path, depth, key } = stack.pop() as (typeof stack)[number];
    const at = path || '(document)';
    if (key !== undefined && LONE_SURROGATE.test(key)) out.push({ path: at, message: MESSAGES.surrogateKey });
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) out.push({ path: at, message: MESSAGES.surrogate });
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) out.push({ path: at, message: MESSAGES.number });
    } else if (isContainer(value)) {
      if (depth > MAX_DEPTH) {
        out.push({ path: at, message: MESSAGES.depth });
        continue;
      }
      const entries = Object.entries(value);
      // Pushed last first, so that children are visited in document order.
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        const [name, child] = entries[i];
        stack.push({ value: child, path: childPath(path, value, name), depth: depth + 1, key: name });
      }
    }
  }
  return out.slice(0, MAX_REPORTED);
}
