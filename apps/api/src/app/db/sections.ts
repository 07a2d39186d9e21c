import type { ResumeSection } from '@vita/contracts';

/** How one JSON field is kept in its column. */
export type FieldKind =
  /** a string, in a MEDIUMTEXT column */
  | 'text'
  /** an array or object, as JSON text */
  | 'json';

export interface FieldSpec {
  key: string;
  column: string;
  kind: FieldKind;
}

/**
 * One résumé section (or the profiles inside basics) and its table. Every table has `seq` (the
 * item's place in its list; 0 for the one-object sections) and `extras` (the item's fields beyond
 * the schema's own, as JSON), so a stored document reads back exactly as it was written.
 */
export interface TableSpec {
  /** Path in the document: a section name, or `basics.profiles`. */
  path: ResumeSection | 'basics.profiles';
  table: string;
  /** One object (basics, meta) rather than a list of items. */
  single: boolean;
  fields: FieldSpec[];
}

const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function table(path: TableSpec['path'], single: boolean, text: string[], json: string[] = []): TableSpec {
  const fields = [
    ...text.map((key): FieldSpec => ({ key, column: snake(key), kind: 'text' })),
    ...json.map((key): FieldSpec => ({ key, column: snake(key), kind: 'json' })),
  ];
  return { path, table: `resume_${snake(path.replace('basics.', ''))}`, single, fields };
}

export const TABLES: readonly TableSpec[] = [
  table('basics', true, ['name', 'label', 'image', 'email', 'phone', 'url', 'summary'], ['location']),
  table('basics.profiles', false, ['network', 'username', 'url']),
  table('work', false, ['name', 'location', 'description', 'position', 'url', 'startDate', 'endDate', 'summary'], ['highlights']),
  table('volunteer', false, ['organization', 'position', 'url', 'startDate', 'endDate', 'summary'], ['highlights']),
  table('education', false, ['institution', 'url', 'area', 'studyType', 'startDate', 'endDate', 'score'], ['courses']),
  table('awards', false, ['title', 'date', 'awarder', 'summary']),
  table('certificates', false, ['name', 'date', 'url', 'issuer']),
  table('publications', false, ['name', 'publisher', 'releaseDate', 'url', 'summary']),
  table('skills', false, ['name', 'level'], ['keywords']),
  table('languages', false, ['language', 'fluency']),
  table('interests', false, ['name'], ['keywords']),
  table('references', false, ['name', 'reference']),
  table('projects', false, ['name', 'description', 'startDate', 'endDate', 'url', 'entity', 'type'], ['highlights', 'keywords', 'roles']),
  table('meta', true, ['canonical', 'version', 'lastModified']),
];
