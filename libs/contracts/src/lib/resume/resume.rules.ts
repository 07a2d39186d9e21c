// class-transformer's @Type reads design-type metadata through the Reflect API.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ValidateBy, ValidateIf, ValidateNested } from 'class-validator';
import { isEmail, isIso8601, isUri } from './resume.formats';

/** Short, human messages used by every rule. */
export const MESSAGES = {
  string: 'must be a string',
  date: 'must be YYYY, YYYY-MM or YYYY-MM-DD',
  email: 'must be an e-mail address',
  uri: 'must be a URI',
  array: 'must be an array',
  object: 'must be an object',
} as const;

/** One problem found by a rule; `at` is a path suffix relative to the property (`''` or `[3]`). */
export interface RuleIssue {
  at: string;
  message: string;
}

/** A named check over one property value; valid when it returns no issues. */
export interface Rule {
  name: string;
  check(value: unknown): RuleIssue[];
}

/** A DTO class: instances are created with `Object.create`, never by calling the constructor. */
export type DtoClass<T extends object = object> = new () => T;

/** A JSON object in the schema's sense: anything non-null that is not an array. */
export const isJsonObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const issue = (message: string, at = ''): RuleIssue[] => [{ at, message }];

const stringRule = (name: string, format?: (s: string) => boolean, message = ''): Rule => ({
  name,
  check: (v) =>
    typeof v !== 'string' ? issue(MESSAGES.string) : format && !format(v) ? issue(message) : [],
});

const arrayRule = (name: string, item: (v: unknown) => boolean, message: string): Rule => ({
  name,
  // Array.from turns holes into `undefined`, so sparse arrays are checked element by element too.
  check: (v) =>
    Array.isArray(v)
      ? Array.from(v as unknown[]).flatMap((e, i) => (item(e) ? [] : issue(message, `[${i}]`)))
      : issue(MESSAGES.array),
});

export const RULES: readonly Rule[] = [
  stringRule('resumeString'),
  stringRule('resumeDate', isIso8601, MESSAGES.date),
  stringRule('resumeEmail', isEmail, MESSAGES.email),
  stringRule('resumeUri', isUri, MESSAGES.uri),
  arrayRule('resumeStringArray', (e) => typeof e === 'string', MESSAGES.string),
  { name: 'resumeObject', check: (v) => (isJsonObject(v) ? [] : issue(MESSAGES.object)) },
  arrayRule('resumeObjectArray', isJsonObject, MESSAGES.object),
];
const [STRING, DATE, EMAIL, URI, STRING_ARRAY, OBJECT, OBJECT_ARRAY] = RULES;

/** How a property nests another DTO, if it does. */
export interface FieldSpec {
  nested?: { type: () => DtoClass; many: boolean };
}

const FIELDS = new WeakMap<object, Map<string, FieldSpec>>();

/** Declared properties of a DTO class, base classes first, and how each nests. */
export function fieldsOf(cls: DtoClass): ReadonlyMap<string, FieldSpec> {
  const chain: object[] = [];
  for (let p: unknown = cls.prototype; isJsonObject(p) && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    chain.unshift(p);
  }
  return new Map(chain.flatMap((p) => [...(FIELDS.get(p) ?? [])]));
}

/**
 * Registers a schema property: optional (absent/undefined is skipped, but `null` is
 * checked like any other value), validated by `rule`, and nested DTOs validated deeply.
 */
function field(rule: Rule, spec: FieldSpec = {}): PropertyDecorator {
  return (target, key) => {
    if (typeof key !== 'string') throw new TypeError('resume fields must have string keys');
    const fields = FIELDS.get(target) ?? new Map<string, FieldSpec>();
    FIELDS.set(target, fields.set(key, spec));
    const validator = {
      validate: (value: unknown) => rule.check(value).length === 0,
      defaultMessage: (args?: { value: unknown }) =>
        rule
          .check(args?.value)
          .map((i) => `${key}${i.at} ${i.message}`)
          .join('; '),
    };
    const decorators = [ValidateIf((_o, v) => v !== undefined), ValidateBy({ name: rule.name, validator })];
    if (spec.nested) decorators.push(ValidateNested(), Type(spec.nested.type));
    decorators.forEach((decorate) => decorate(target, key));
  };
}

export const IsResumeString = (): PropertyDecorator => field(STRING);
export const IsResumeDate = (): PropertyDecorator => field(DATE);
export const IsResumeEmail = (): PropertyDecorator => field(EMAIL);
export const IsResumeUri = (): PropertyDecorator => field(URI);
export const IsResumeStringArray = (): PropertyDecorator => field(STRING_ARRAY);
export const IsResumeObject = (type: () => DtoClass): PropertyDecorator =>
  field(OBJECT, { nested: { type, many: false } });
export const IsResumeObjectArray = (type: () => DtoClass): PropertyDecorator =>
  field(OBJECT_ARRAY, { nested: { type, many: true } });

/**
 * Builds a DTO instance for validation from the *declared* properties of a plain value only.
 * Nested values are turned into DTOs only when their shape already matches (object / array of
 * objects), so nothing is coerced; unknown keys (`__proto__`, `constructor`, …) are never copied,
 * and the input is only read, never written.
 */
export function hydrate<T extends object>(cls: DtoClass<T>, plain: Record<string, unknown>): T {
  const instance = Object.create(cls.prototype) as Record<string, unknown>;
  for (const [key, { nested }] of fieldsOf(cls)) {
    if (!Object.hasOwn(plain, key)) continue;
    const value = plain[key];
    const toDto = (v: unknown): unknown => (nested && isJsonObject(v) ? hydrate(nested.type(), v) : v);
    instance[key] = !nested?.many ? toDto(value) : Array.isArray(value) ? Array.from(value, toDto) : value;
  }
  return instance as T;
}
