import type { ValidationError } from 'jsonschema';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The parts of JSON Schema (draft-07) that the JSON Resume schema uses. */
export interface JsonSchema {
  type?: string;
  format?: string;
  pattern?: string;
  $ref?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  definitions?: Record<string, JsonSchema>;
  additionalProperties?: boolean;
}

interface ReferencePackage {
  validate(resume: unknown, callback: (errors: ValidationError[] | null, valid: boolean) => void): void;
  schema: JsonSchema;
}

let loaded: ReferencePackage | undefined;
/**
 * The dev dependency @jsonresume/schema: JSON Resume's own validator, the one its users check their
 * documents with. Loaded on first use, so that importing @vita/testing does not need it.
 */
const reference = (): ReferencePackage => (loaded ??= require('@jsonresume/schema') as ReferencePackage);
const packageDir = (): string => dirname(require.resolve('@jsonresume/schema/package.json'));

export interface ReferenceVerdict {
  valid: boolean;
  /** Where its errors are, in Vita's notation (`basics.profiles[0].url`, `(document)`), sorted, once each. */
  paths: string[];
}

/** `instance.work[0].url` → `work[0].url`; `instance` → `(document)`. */
const vitaPath = (property: string): string => property.replace(/^instance\.?/, '') || '(document)';

/** @jsonresume/schema's verdict on a parsed document. */
export function referenceVerdict(doc: unknown): ReferenceVerdict {
  let verdict: ReferenceVerdict | undefined;
  reference().validate(doc, (errors, valid) => {
    verdict = { valid, paths: [...new Set((errors ?? []).map((e) => vitaPath(e.property)))].sort() };
  });
  if (!verdict) throw new Error('@jsonresume/schema did not call back synchronously');
  return verdict;
}

/** The schema @jsonresume/schema validates with (a copy). */
export function referenceSchema(): JsonSchema {
  return JSON.parse(JSON.stringify(reference().schema)) as JsonSchema;
}

const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

/**
 * The package's sample résumé, with each section it lacks (certificates) taken from the first of
 * the package's examples that has it: a valid document with every section of the schema.
 */
export function referenceSample(): Record<string, unknown> {
  const dir = packageDir();
  const sample = readJson(join(dir, 'sample.resume.json'));
  const examples = readdirSync(join(dir, 'examples'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readJson(join(dir, 'examples', f)));
  for (const section of Object.keys(reference().schema.properties ?? {})) {
    const found = sample[section] === undefined ? examples.find((e) => e[section] !== undefined) : undefined;
    if (found) sample[section] = found[section];
  }
  return sample;
}
