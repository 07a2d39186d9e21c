import { type JsonSchema, referenceSample, referenceSchema } from './reference';

/*
 * Seeded JSON Resume documents for differential tests: @jsonresume/schema's sample (with every
 * section) mutated where the schema says what a value must be, at every depth. The schema drives
 * the walk, so every property it declares (and every object it allows extra keys in) is reached.
 */

export const MUTATION_KINDS = ['wrong-type', 'null', 'bad-date', 'bad-url', 'bad-email', 'extra-key', 'removed-key', 'odd-text'] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

export interface Mutation {
  kind: MutationKind;
  /** Where, in Vita's notation: `basics.profiles[1].url`; `(document)` for the document itself. */
  path: string;
  /**
   * The object or array it happened in, indices left out: `top level`, `basics`, `basics.location`,
   * `basics.profiles[]`, `work[]`, `skills[].keywords`; `(document)` when the document itself was replaced.
   */
  depth: string;
}

export interface GeneratedResume {
  /** Its place in the run: 0 is the unmutated sample. */
  id: number;
  /** The document as it is sent: JSON text (parse it for a fresh copy). */
  json: string;
  mutations: Mutation[];
}

export interface GenerateOptions {
  seed: number;
  /** Documents with 2 to 4 mutations each, after the systematic ones (one per kind and place). Default 150. */
  combined?: number;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Segment = string | number;

/** mulberry32: small, fast, and the same sequence for a seed on every machine. */
class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/** Values of another JSON type than the one expected. */
const WRONG: Record<string, readonly Json[]> = {
  string: [0, 42, -1.5, 1e21, true, false, [], ['text'], {}, { text: 'x' }],
  array: ['', 'text', 0, 7, true, {}, { '0': 'a' }],
  object: ['', 'text', 0, 3.14, false, [], [{}], ['a']],
};

/** Dates the schema's pattern refuses, and some it takes that look wrong. */
const DATES: readonly string[] = [
  '2014-6', '2014-06-2', '14-06-29', '2014/06/29', '2014-06-29T10:00:00', '2014-06-29T10:00:00Z', ' 2014', '2014 ',
  '2014-06-29\n', '2014-', '2014-06-', 'present', 'Present', '', '0999', '3000', '2014-20-01', '2014-06-40', 'June 2014',
  '２０１４', '20140629', '2014-06-29-01', '+2014', '2014.06', '2023-19-39', '2020-00-00', '1000', '2999-12-31',
];

/** URIs, bad and borderline: the validator asks only for a scheme, a colon and no white space. */
const URLS: readonly string[] = [
  'not a url', '/relative/path', 'example.com', 'example.com/x', '//example.com/x', 'https://exa mple.com',
  ' https://example.com', 'https://example.com\n', 'https://example.com/\u00a0', 'https://example.com/\t', 'ht tp://x',
  '1http://x', '+a:b', ':x', '', 'https:', 'a:', 'http://[::1', 'https://exämple.com', 'https://例え.jp/パス',
  'https://example.com/<a>', 'https://example.com/#a#b', 'https://example.com/%zz', 'mailto:ada@example.org',
  'urn:isbn:0451450523', 'javascript:alert(1)', 'file:///etc/hosts', 'HTTPS://EXAMPLE.COM', 'https://example.com/a b',
];

/** E-mail addresses, bad and borderline. */
const EMAILS: readonly string[] = [
  'ada@', '@example.org', 'ada@localhost', 'ada example@example.org', 'ada@@example.org', 'ada..x@example.org',
  '.ada@example.org', 'ada.@example.org', 'ada@-example.org', 'ada@example-.org', 'ada@example..org',
  'mailto:ada@example.org', '', 'ünï@example.org', 'ada@exämple.org', 'ada@example.org.', '"ada"@example.org',
  `ada@${'a'.repeat(64)}.example`, 'ada@[256.0.0.1]', 'ada@[192.0.2.1]', 'x@1.2', 'ada+tag@sub.example.co.uk',
  "o'brien@example.ie", 'A_B@EXAMPLE.COM', 'ada@a-b.example', 'ada @example.org', 'ada@example.org ',
  'Ada Lovelace <ada@example.org>',
];

/** Strings any string field takes, chosen to trip up storage and rendering. */
const ODD_TEXT: readonly string[] = [
  '', ' ', 'é ✓ 🚀 𝄞', 'a\u0000b', 'line\nbreak\r\n', 'tab\tbed', '"quoted" \'single\' `back`', 'back\\slash \\u0000',
  '<script>alert(1)</script>', '  padded  ', 'نص عربي', 'ﬁ', 'Z\u0351\u036b\u0343\u036a\u0302', '\u200b\ufeff',
  'x'.repeat(5000), 'null', '0', '{}', "'; DROP TABLE resume_work; --",
];

/**
 * Names of extra keys: ordinary ones, ones the store itself uses (`seq`, `extras`, `present`,
 * `basics.profiles`), names of properties found elsewhere in the schema, and ones with meaning to
 * JavaScript. (`__proto__`, and `constructor` holding a `prototype`, are refused by the api's JSON
 * parser: a deliberately stricter case, tested on its own.)
 */
const EXTRA_KEYS: readonly string[] = [
  'x-theme', 'pronouns', 'timezone', 'x', '', ' ', 'ünï', '😀', 'seq', 'extras', 'present', 'id', 'version',
  'profiles', 'basics.profiles', 'location', 'work', 'meta', 'constructor', 'toString', 'hasOwnProperty', 'valueOf',
  '$ref', '$schema', 'a.b', 'a[0]', 'null', '0', '123', 'Name', 'startdate', 'URL',
];

const VALUE_KEYS = ['a', 'b', 'size', 'remote', 'name', 'url', 'tags', '', '😀', 'toString', 'constructor'];
const STRINGS = ['teal', '', 'ünïcødé', '😀', 'a\u0000b', 'line\nbreak', '"quoted"', 'back\\slash', '<b>', ' spaced '];
const NUMBERS = [0, 1, -1, 7, 0.1, -7.25, 1e21, 1e-7, 2 ** 53 - 1, -(2 ** 31)];

function randomJson(rnd: Random, depth = 0): Json {
  const shape = depth >= 3 ? rnd.int(5) : rnd.int(7);
  switch (shape) {
    case 0:
      return rnd.pick(STRINGS);
    case 1:
      return rnd.pick(NUMBERS);
    case 2:
      return rnd.int(2) === 0;
    case 3:
      return null;
    case 4:
      return rnd.int(1000);
    case 5:
      return Array.from({ length: rnd.int(4) }, () => randomJson(rnd, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: rnd.int(4) }, () => [rnd.pick(VALUE_KEYS), randomJson(rnd, depth + 1)]));
  }
}

/** A value in the document and the schema it is held to. */
interface Target {
  path: Segment[];
  schema: JsonSchema;
  value: Json;
}

const isObject = (v: Json | undefined): v is { [key: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = /^#\/definitions\/(.+)$/.exec(schema.$ref)?.[1];
  const found = name === undefined ? undefined : root.definitions?.[name];
  if (!found) throw new Error(`unsupported $ref ${schema.$ref}`);
  return { ...found, ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$ref')) };
}

/** Every value the schema describes, the document first, in document order. */
function targets(doc: Json, root: JsonSchema): Target[] {
  const out: Target[] = [];
  const walk = (value: Json, raw: JsonSchema, path: Segment[]): void => {
    const schema = resolve(raw, root);
    out.push({ path, schema, value });
    if (schema.type === 'object' && isObject(value)) {
      for (const [key, sub] of Object.entries(schema.properties ?? {})) {
        if (Object.hasOwn(value, key)) walk(value[key], sub, [...path, key]);
      }
    } else if (schema.type === 'array' && Array.isArray(value) && schema.items) {
      const items = schema.items;
      value.forEach((item, i) => walk(item, items, [...path, i]));
    }
  };
  walk(doc, root, []);
  return out;
}

const formatPath = (path: readonly Segment[]): string =>
  path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '') || '(document)';

/** The place with its indices left out: `work[].highlights`; `top level` for the document. */
const shape = (path: readonly Segment[]): string =>
  path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[]` : s ? `${s}.${p}` : p), '') || 'top level';

const POOLS: Partial<Record<MutationKind, readonly string[]>> = { 'bad-date': DATES, 'bad-url': URLS, 'bad-email': EMAILS, 'odd-text': ODD_TEXT };

function applies(kind: MutationKind, t: Target): boolean {
  switch (kind) {
    case 'wrong-type':
      return t.schema.type !== undefined;
    case 'null':
      return true;
    case 'bad-date':
      return t.schema.pattern !== undefined;
    case 'bad-url':
      return t.schema.format === 'uri';
    case 'bad-email':
      return t.schema.format === 'email';
    case 'odd-text':
      return t.schema.type === 'string' && t.schema.format === undefined && t.schema.pattern === undefined;
    case 'extra-key':
      return t.schema.type === 'object' && isObject(t.value);
    case 'removed-key':
      return t.schema.type === 'object' && isObject(t.value) && Object.keys(t.value).length > 0;
  }
}

/** Where a mutation of this kind at this target happens: the object itself for keys, else what holds the value. */
function depthOf(kind: MutationKind, path: Segment[]): string {
  if (kind === 'extra-key' || kind === 'removed-key') return shape(path);
  return path.length === 0 ? '(document)' : shape(path.slice(0, -1));
}


function setAt(doc: Json, path: Segment[], value: Json): Json {
  if (path.length === 0) return value;
  let parent = doc as { [key: string]: Json } | Json[];
  for (const p of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[p] as typeof parent;
  (parent as Record<string | number, Json>)[path[path.length - 1]] = value;
  return doc;
}

/** Applies one mutation of `kind` at `t` (a value from the kind's pool when `choice` is given); returns the document. */
function mutate(doc: Json, kind: MutationKind, t: Target, rnd: Random, choice?: number): { doc: Json; mutation: Mutation } {
  const record = (path: Segment[]): Mutation => ({ kind, path: formatPath(path), depth: depthOf(kind, t.path) });
  const pool = POOLS[kind];
  switch (kind) {
    case 'wrong-type':
      return { doc: setAt(doc, t.path, rnd.pick(WRONG[t.schema.type ?? 'object'] ?? WRONG['object'])), mutation: record(t.path) };
    case 'null':
      return { doc: setAt(doc, t.path, null), mutation: record(t.path) };
    case 'extra-key': {
      const object = t.value as { [key: string]: Json };
      const declared = new Set(Object.keys(t.schema.properties ?? {}));
      const free = EXTRA_KEYS.filter((k) => !Object.hasOwn(object, k) && !declared.has(k));
      const key = choice === undefined ? rnd.pick(free) : free[choice % free.length];
      object[key] = randomJson(rnd);
      return { doc, mutation: record([...t.path, key]) };
    }
    case 'removed-key': {
      const object = t.value as { [key: string]: Json };
      const key = rnd.pick(Object.keys(object));
      delete object[key];
      return { doc, mutation: record([...t.path, key]) };
    }
    default: {
      if (!pool) throw new Error(`no values for ${kind}`);
      return { doc: setAt(doc, t.path, choice === undefined ? rnd.pick(pool) : pool[choice % pool.length]), mutation: record(t.path) };
    }
  }
}

/**
 * The systematic documents of a kind, as [place, choice of value or name]: one per place, and at
 * least one per value of the kind's pool, places taken in turn; extra keys get every name at the
 * top level (what JSON Resume v1.0.0 forbade) and two names in turn everywhere else.
 */
function plan(kind: MutationKind, places: string[]): [string, number][] {
  if (kind === 'extra-key') {
    const below = places.filter((p) => p !== 'top level');
    return [...EXTRA_KEYS.map((_, i): [string, number] => ['top level', i]), ...below.flatMap((p, i): [string, number][] => [[p, 2 * i], [p, 2 * i + 1]])];
  }
  const pool = POOLS[kind];
  const runs = Math.max(places.length, pool?.length ?? 0);
  return Array.from({ length: runs }, (_, i): [string, number] => [places[i % places.length], i]);
}

/**
 * The documents of one run, the same for the same seed: the sample itself; then the systematic
 * ones (`plan`), one mutation each; then `combined` documents with 2 to 4 mutations of any kind.
 */
export function generateResumes(options: GenerateOptions): GeneratedResume[] {
  const rnd = new Random(options.seed);
  const root = referenceSchema();
  const base = JSON.stringify(referenceSample());
  const out: GeneratedResume[] = [{ id: 0, json: base, mutations: [] }];
  const add = (doc: Json, mutations: Mutation[]): void => {
    out.push({ id: out.length, json: JSON.stringify(doc), mutations });
  };

  for (const kind of MUTATION_KINDS) {
    // A place is the same in every item of an array (`basics.profiles[].url`).
    const places = [...new Set(targets(JSON.parse(base) as Json, root).filter((t) => applies(kind, t)).map((t) => shape(t.path)))];
    for (const [place, choice] of plan(kind, places)) {
      const doc = JSON.parse(base) as Json;
      const candidates = targets(doc, root).filter((t) => applies(kind, t) && shape(t.path) === place);
      const { doc: mutated, mutation } = mutate(doc, kind, rnd.pick(candidates), rnd, choice);
      add(mutated, [mutation]);
    }
  }

  for (let n = 0; n < (options.combined ?? 150); n += 1) {
    let doc = JSON.parse(base) as Json;
    const mutations: Mutation[] = [];
    const count = 2 + rnd.int(3);
    while (mutations.length < count) {
      const kind = rnd.pick(MUTATION_KINDS);
      const candidates = targets(doc, root).filter((t) => applies(kind, t));
      if (candidates.length === 0) continue;
      const result = mutate(doc, kind, rnd.pick(candidates), rnd);
      doc = result.doc;
      mutations.push(result.mutation);
    }
    add(doc, mutations);
  }
  return out;
}
