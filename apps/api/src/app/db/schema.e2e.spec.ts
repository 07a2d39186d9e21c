import { EntitySchema } from 'typeorm';
import { ApiDatabases, startApiDatabases } from '../../test/api-stack';
import { ENTITIES, ResumeState, SECTION_ENTITIES, sectionEntity, StateRow } from './entities';
import { MigrateEnv, pendingSchemaChanges } from './migrate';
import { TABLES, TableSpec } from './sections';

const spec = (path: TableSpec['path']): TableSpec => {
  const found = TABLES.find((t) => t.path === path);
  if (!found) throw new Error(`no table for ${path}`);
  return found;
};

/** The api's entities with `entity` in place of the one of the same table. */
const withEntity = (entity: EntitySchema): EntitySchema[] =>
  ENTITIES.map((e) => (e.options.tableName === entity.options.tableName ? entity : e));

describe('pending-migration check: the entities and the migrations agree', () => {
  let dbs: ApiDatabases;
  let env: MigrateEnv;

  beforeAll(async () => {
    dbs = await startApiDatabases(0);
    const { primary } = dbs.topology;
    env = { DB_WRITE_HOST: `${primary.host}:${primary.port}`, DB_NAME: 'vita', DB_MIGRATE_USER: dbs.logins.migrator.user, DB_MIGRATE_PASSWORD: dbs.logins.migrator.password };
  });
  afterAll(async () => dbs?.topology.close());

  it('has one entity per section table, plus state, probe and the topology', () => {
    const tables = ENTITIES.map((e) => e.options.tableName).sort();
    expect(tables).toEqual([...TABLES.map((t) => t.table), 'probe', 'resume_state', 'site_nodes'].sort());
    expect(SECTION_ENTITIES.size).toBe(TABLES.length);
  });

  it('after the migrations, TypeORM has nothing to change (as `typeorm migration:generate --check`)', async () => {
    expect(await pendingSchemaChanges(env)).toEqual([]);
  });

  it('reports an entity column whose type differs from the migrations, naming the table and the column', async () => {
    const work = spec('work');
    const variant = sectionEntity({ ...work, fields: work.fields.map((f) => (f.key === 'position' ? { ...f, kind: 'json' } : f)) });
    const changes = await pendingSchemaChanges(env, withEntity(variant));
    expect(changes.length).toBeGreaterThan(0);
    for (const change of changes) expect(change).toMatch(/^ALTER TABLE `resume_work` .*`position`/);
    expect(changes.join('\n')).toContain('`position` longtext');
  });

  it('reports a column the migrations do not create', async () => {
    const skills = spec('skills');
    const variant = sectionEntity({ ...skills, fields: [...skills.fields, { key: 'years', column: 'years', kind: 'text' }] });
    const changes = await pendingSchemaChanges(env, withEntity(variant));
    expect(changes).toEqual([expect.stringMatching(/ALTER TABLE `resume_skills` ADD `years` mediumtext NULL/)]);
  });

  it('reports a datetime precision the migrations do not have', async () => {
    const { columns } = ResumeState.options;
    const variant = new EntitySchema<StateRow>({ ...ResumeState.options, columns: { ...columns, updatedAt: { type: 'datetime', name: 'updated_at', precision: 6 } } });
    const changes = await pendingSchemaChanges(env, withEntity(variant));
    expect(changes.join('\n')).toMatch(/`resume_state`.*`updated_at`/);
  });
});
