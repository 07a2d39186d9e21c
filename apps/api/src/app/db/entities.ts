import { EntitySchema, EntitySchemaColumnOptions, ValueTransformer } from 'typeorm';
import { TABLES, TableSpec } from './sections';

/** What a column holds as TypeORM sees it: text, a number, or a JSON object or array (through jsonText). */
export type Cell = string | number | object | null;

/** The one row of `resume_state`: the version, and what the section tables do not hold. */
export interface StateRow {
  id: number;
  version: number;
  updatedAt: Date;
  /** Paths of the sections the document has (an empty list is a section too). */
  present: string[];
  /** Top-level fields beyond the schema's sections. */
  extras: object | null;
}

/** One row of a section table: `seq`, a property per field (named by its JSON key), `extras`. */
export interface ItemRow {
  [property: string]: Cell;
  seq: number;
  extras: object | null;
}

export interface ProbeRow {
  id: number;
  message: string;
}

/**
 * A JSON value in a LONGTEXT column with a JSON_VALID check (what MariaDB's JSON type is), kept as
 * the text JSON.stringify makes. The driver may hand back text, a Buffer or an already parsed value.
 */
export const jsonText: ValueTransformer = {
  to: (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value)),
  from: (value: unknown) => {
    if (value === null || value === undefined) return null;
    if (typeof value === 'string') return JSON.parse(value);
    if (Buffer.isBuffer(value)) return JSON.parse(value.toString('utf8'));
    return value;
  },
};

const seq: EntitySchemaColumnOptions = { type: 'int', unsigned: true, primary: true };
const json = (nullable: boolean, name?: string): EntitySchemaColumnOptions => ({ type: 'longtext', nullable, name, transformer: jsonText });

export function sectionEntity(spec: TableSpec): EntitySchema<ItemRow> {
  const columns: Record<string, EntitySchemaColumnOptions> = { seq };
  for (const field of spec.fields) {
    columns[field.key] = field.kind === 'json' ? json(true, field.column) : { type: 'mediumtext', nullable: true, name: field.column };
  }
  columns['extras'] = json(true);
  return new EntitySchema<ItemRow>({ name: spec.table, tableName: spec.table, columns });
}

export const ResumeState = new EntitySchema<StateRow>({
  name: 'resume_state',
  tableName: 'resume_state',
  columns: {
    id: { type: 'tinyint', unsigned: true, primary: true },
    version: { type: 'int', unsigned: true },
    updatedAt: { type: 'datetime', precision: 3, name: 'updated_at' },
    present: json(false),
    extras: json(true),
  },
});

export const Probe = new EntitySchema<ProbeRow>({
  name: 'probe',
  tableName: 'probe',
  columns: {
    id: { type: 'tinyint', unsigned: true, primary: true },
    message: { type: 'varchar', length: 100 },
  },
});

/** One row of `site_nodes`, the topology (see @vita/contracts SiteNode). */
export interface SiteNodeRow {
  name: string;
  address: string;
  dbPort: number;
  peerUrl: string;
  state: 'joining' | 'active' | 'leaving';
  updatedAt: Date;
}

export const SiteNodes = new EntitySchema<SiteNodeRow>({
  name: 'site_nodes',
  tableName: 'site_nodes',
  columns: {
    name: { type: 'varchar', length: 63, primary: true },
    address: { type: 'varchar', length: 253 },
    dbPort: { type: 'smallint', unsigned: true, name: 'db_port' },
    peerUrl: { type: 'varchar', length: 300, name: 'peer_url' },
    state: { type: 'enum', enum: ['joining', 'active', 'leaving'] },
    updatedAt: { type: 'datetime', precision: 3, name: 'updated_at' },
  },
});

/** One entity per section table, in the order of TABLES. */
export const SECTION_ENTITIES: ReadonlyMap<TableSpec, EntitySchema<ItemRow>> = new Map(TABLES.map((spec) => [spec, sectionEntity(spec)]));

/** Every table the migrations create, as the DataSource knows them. */
export const ENTITIES: EntitySchema[] = [ResumeState, ...SECTION_ENTITIES.values(), Probe, SiteNodes];
