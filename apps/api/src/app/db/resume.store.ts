import type { JsonResume } from '@vita/contracts';
import { TABLES, TableSpec } from './sections';

/** Anything that can run a parameterised query: a DataSource, an EntityManager or a QueryRunner. */
export interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

type Row = Record<string, unknown>;
type Item = Record<string, unknown>;

export interface StoredResume {
  version: number;
  updatedAt: Date;
  document: JsonResume;
}

const STATE_TABLE = 'resume_state';

/** Reads the whole document. Call inside a transaction to get one consistent snapshot. */
export async function readResume(db: Queryable): Promise<StoredResume> {
  const [state] = (await db.query(`SELECT version, updated_at, present, extras FROM ${STATE_TABLE} WHERE id = 1`)) as Row[];
  if (!state) throw new Error(`${STATE_TABLE} has no row: run the migrations`);
  const present = fromJson(state['present']) as string[];
  const document: Item = (fromJson(state['extras']) as Item | null) ?? {};
  for (const spec of TABLES) {
    if (!present.includes(spec.path)) continue;
    const rows = (await db.query(`SELECT * FROM \`${spec.table}\` ORDER BY seq`)) as Row[];
    const items = rows.map((row) => rowToItem(spec, row));
    if (spec.path === 'basics.profiles') {
      (document['basics'] as Item)['profiles'] = items;
    } else {
      document[spec.path] = spec.single ? (items[0] ?? {}) : items;
    }
  }
  return { version: Number(state['version']), updatedAt: toDate(state['updated_at']), document: document as JsonResume };
}

/** Current version only: the cheap question asked on every check. */
export async function readVersion(db: Queryable): Promise<number> {
  const [state] = (await db.query(`SELECT version FROM ${STATE_TABLE} WHERE id = 1`)) as Row[];
  if (!state) throw new Error(`${STATE_TABLE} has no row: run the migrations`);
  return Number(state['version']);
}

/**
 * Replaces the stored document with `doc` (already validated) and bumps the version. Must run in
 * a transaction: it either all lands or none of it does. `expectedVersion`, when given, makes the
 * write conditional (If-Match).
 */
export async function writeResume(db: Queryable, doc: JsonResume, expectedVersion?: number): Promise<{ version: number; conflict: boolean }> {
  const [state] = (await db.query(`SELECT version FROM ${STATE_TABLE} WHERE id = 1 FOR UPDATE`)) as Row[];
  const current = Number(state?.['version']);
  if (expectedVersion !== undefined && expectedVersion !== current) return { version: current, conflict: true };

  const source = doc as Item;
  const present: string[] = [];
  for (const spec of TABLES) {
    await db.query(`DELETE FROM \`${spec.table}\``);
    const value = valueAt(source, spec.path);
    if (value === undefined) continue;
    present.push(spec.path);
    const items = (spec.single ? [value] : value) as Item[];
    if (items.length > 0) await insertItems(db, spec, items);
  }
  const known = new Set<string>(TABLES.map((t) => t.path));
  const extras = Object.fromEntries(Object.entries(source).filter(([key]) => !known.has(key)));
  await db.query(`UPDATE ${STATE_TABLE} SET version = version + 1, updated_at = UTC_TIMESTAMP(3), present = ?, extras = ? WHERE id = 1`, [
    JSON.stringify(present),
    JSON.stringify(extras),
  ]);
  return { version: current + 1, conflict: false };
}

function valueAt(doc: Item, path: TableSpec['path']): unknown {
  if (path !== 'basics.profiles') return doc[path];
  const basics = doc['basics'] as Item | undefined;
  return basics?.['profiles'];
}

async function insertItems(db: Queryable, spec: TableSpec, items: Item[]): Promise<void> {
  const columns = ['seq', ...spec.fields.map((f) => f.column), 'extras'];
  const ownKeys = new Set(spec.fields.map((f) => f.key));
  if (spec.path === 'basics') ownKeys.add('profiles');
  const params: unknown[] = [];
  items.forEach((item, seq) => {
    params.push(seq);
    for (const f of spec.fields) {
      const v = item[f.key];
      params.push(v === undefined ? null : f.kind === 'json' ? JSON.stringify(v) : v);
    }
    const extras = Object.entries(item).filter(([key]) => !ownKeys.has(key));
    params.push(extras.length > 0 ? JSON.stringify(Object.fromEntries(extras)) : null);
  });
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  await db.query(
    `INSERT INTO \`${spec.table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES ${items.map(() => tuple).join(', ')}`,
    params,
  );
}

function rowToItem(spec: TableSpec, row: Row): Item {
  const item: Item = {};
  for (const f of spec.fields) {
    const v = row[f.column];
    if (v === null || v === undefined) continue;
    item[f.key] = f.kind === 'json' ? fromJson(v) : String(v);
  }
  const extras = fromJson(row['extras']) as Item | null;
  return extras ? { ...item, ...extras } : item;
}

const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(`${String(v).replace(' ', 'T')}Z`));

/**
 * A JSON column's value. MariaDB flags its JSON columns in the result metadata and the driver may
 * already have parsed them; older servers send text.
 */
function fromJson(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return JSON.parse(v);
  if (Buffer.isBuffer(v)) return JSON.parse(v.toString('utf8'));
  return v;
}
