import { isResumeSection, type JsonResume } from '@vita/contracts';
import type { EntityManager } from 'typeorm';
import { Cell, ItemRow, ResumeState, SECTION_ENTITIES } from './entities';
import type { TableSpec } from './sections';

/**
 * What the store works through: a DataSource, or the EntityManager of a transaction (then every
 * statement runs in that transaction).
 */
export type Queryable = Pick<EntityManager, 'query' | 'getRepository'>;

type Item = Record<string, unknown>;

export interface StoredResume {
  version: number;
  updatedAt: Date;
  document: JsonResume;
}

const MISSING_STATE = 'resume_state has no row: run the migrations';

/** Reads the whole document. Call inside a transaction to get one consistent snapshot. */
export async function readResume(db: Queryable): Promise<StoredResume> {
  const state = await db.getRepository(ResumeState).findOneBy({ id: 1 });
  if (!state) throw new Error(MISSING_STATE);
  const document = { ...state.extras } as Item;
  for (const [spec, entity] of SECTION_ENTITIES) {
    if (!state.present.includes(spec.path)) continue;
    const rows = await db.getRepository(entity).find({ order: { seq: 'ASC' } });
    const items = rows.map((row) => rowToItem(spec, row));
    if (spec.path === 'basics.profiles') {
      (document['basics'] as Item)['profiles'] = items;
    } else {
      document[spec.path] = spec.single ? (items[0] ?? {}) : items;
    }
  }
  return { version: state.version, updatedAt: toDate(state.updatedAt), document: document as JsonResume };
}

/** Current version only: the cheap question asked on every check. */
export async function readVersion(db: Queryable): Promise<number> {
  const state = await db.getRepository(ResumeState).findOne({ select: { version: true }, where: { id: 1 } });
  if (!state) throw new Error(MISSING_STATE);
  return state.version;
}

/**
 * Replaces the stored document with `doc` (already validated) and bumps the version. Must run in
 * a transaction: it either all lands or none of it does. The state row is locked first, so
 * concurrent writers are serialised and each sees the last one's commit; `holds` (the write's
 * precondition, given the stored version or undefined when there is no state row) decides
 * whether the write goes ahead.
 */
export async function writeResume(
  db: Queryable,
  doc: JsonResume,
  holds: (current: number | undefined) => boolean = () => true,
): Promise<{ version: number | undefined; conflict: boolean }> {
  const state = await db
    .getRepository(ResumeState)
    .createQueryBuilder('state')
    .select('state.version')
    .where('state.id = 1')
    .setLock('pessimistic_write')
    .getOne();
  const current = state?.version;
  if (!holds(current)) return { version: current, conflict: true };
  if (current === undefined) throw new Error(MISSING_STATE);
  const source = doc as Item;
  const present: string[] = [];
  for (const [spec, entity] of SECTION_ENTITIES) {
    await db.getRepository(entity).createQueryBuilder().delete().execute();
    const value = valueAt(source, spec.path);
    if (value === undefined) continue;
    present.push(spec.path);
    const items = (spec.single ? [value] : value) as Item[];
    if (items.length > 0) await db.getRepository(entity).insert(items.map((item, seq) => itemToRow(spec, item, seq)));
  }
  // Every top-level key that is not a section ($schema included) is kept as it came, whatever its name.
  const extras = Object.fromEntries(Object.entries(source).filter(([key]) => !isResumeSection(key)));
  await db
    .getRepository(ResumeState)
    .createQueryBuilder()
    .update()
    .set({ version: () => 'version + 1', updatedAt: () => 'UTC_TIMESTAMP(3)', present, extras })
    .where('id = 1')
    .execute();
  return { version: current + 1, conflict: false };
}

function valueAt(doc: Item, path: TableSpec['path']): unknown {
  if (path !== 'basics.profiles') return doc[path];
  const basics = doc['basics'] as Item | undefined;
  return basics?.['profiles'];
}

function itemToRow(spec: TableSpec, item: Item, seq: number): ItemRow {
  const row: ItemRow = { seq, extras: null };
  const ownKeys = new Set(spec.fields.map((f) => f.key));
  if (spec.path === 'basics') ownKeys.add('profiles');
  // Validated: a text field holds a string, a JSON field an array or object.
  for (const f of spec.fields) row[f.key] = (item[f.key] ?? null) as Cell;
  const extras = Object.entries(item).filter(([key]) => !ownKeys.has(key));
  if (extras.length > 0) row.extras = Object.fromEntries(extras);
  return row;
}

function rowToItem(spec: TableSpec, row: ItemRow): Item {
  const item: Item = {};
  for (const f of spec.fields) {
    const v = row[f.key];
    if (v === null || v === undefined) continue;
    item[f.key] = f.kind === 'json' ? v : String(v);
  }
  return row.extras ? { ...item, ...row.extras } : item;
}

const toDate = (v: unknown): Date => (v instanceof Date ? v : new Date(`${String(v).replace(' ', 'T')}Z`));
