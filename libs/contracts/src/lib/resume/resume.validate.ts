import { validateSync, type ValidationError } from 'class-validator';
import { ResumeDto } from './resume.dto';
import { hydrate, isJsonObject, MESSAGES, RULES } from './resume.rules';
import type { ResumeViolation } from './resume.types';

const RULES_BY_NAME = new Map(RULES.map((rule) => [rule.name, rule]));

/** `(document)`, `basics`, `basics.location`, `work[2]`, … */
const childPath = (base: string, container: unknown, key: string): string =>
  Array.isArray(container) ? `${base}[${key}]` : base ? `${base}.${key}` : key;

/** Position of the array element a violation belongs to (`-1` for the array itself). */
const indexUnder = (arrayPath: string, v: ResumeViolation): number =>
  Number(/^\[(\d+)\]/.exec(v.path.slice(arrayPath.length))?.[1] ?? -1);

/**
 * Flattens class-validator's error tree into document order. A property's own rule is the
 * source of truth for its value (including per-element issues of arrays); nested errors are
 * only followed below values of the expected shape, so class-validator's generic complaints
 * about non-objects are never reported twice.
 */
function collect(errors: ValidationError[], base: string, container: unknown): ResumeViolation[] {
  return errors.flatMap((error) => {
    const path = childPath(base, container, error.property);
    const rule = Object.keys(error.constraints ?? {})
      .map((name) => RULES_BY_NAME.get(name))
      .find((r) => r !== undefined);
    const issues = rule?.check(error.value) ?? [];
    // Array elements that are not objects were already reported by the array's own rule.
    const shapeOk = rule ? issues.every(({ at }) => at !== '') : !Array.isArray(container) || isJsonObject(error.value);
    const found = [
      ...issues.map(({ at, message }) => ({ path: path + at, message })),
      ...(shapeOk ? collect(error.children ?? [], path, error.value) : []),
    ];
    // Stable sort: interleave element-shape issues with nested ones by element index.
    return Array.isArray(error.value) ? found.sort((a, b) => indexUnder(path, a) - indexUnder(path, b)) : found;
  });
}

/**
 * Validates `doc` against the JSON Resume schema as `@jsonresume/schema` 1.3.x publishes it and
 * returns every violation (empty when valid). Every object allows additional properties, the
 * document itself included: they are neither checked nor reported. Synchronous, never mutates or
 * coerces `doc`, and keeps no reference to it.
 */
export function validateResume(doc: unknown): ResumeViolation[] {
  if (!isJsonObject(doc)) return [{ path: '(document)', message: MESSAGES.object }];
  const instance = hydrate(ResumeDto, doc);
  return collect(validateSync(instance, { validationError: { target: false } }), '', instance);
}

export const formatViolation = (v: ResumeViolation): string => `${v.path}: ${v.message}`;
