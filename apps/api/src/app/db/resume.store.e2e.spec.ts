import type { JsonResume } from '@vita/contracts';
import type { DataSource } from 'typeorm';
import { ApiDatabases, startApiDatabases } from '../../test/api-stack';
import { createDataSource } from './data-source';
import { readResume, readVersion, writeResume } from './resume.store';

/**
 * The stored format, byte for byte, as the first migration defined it and the raw-SQL store wrote
 * it: data written before the store went through TypeORM reads back identically, and what it
 * writes now is what it wrote then.
 */
const DOC = {
  $schema: 'https://raw.githubusercontent.com/jsonresume/resume-schema/v1.0.0/schema.json',
  basics: {
    name: 'Ada Lovelace',
    label: 'Analyst — “poetical science”',
    location: { city: 'London', countryCode: 'GB' },
    pronouns: 'she/her',
    profiles: [{ network: 'GitHub', username: 'ada', followers: 42 }, { network: 'Mastodon', url: 'https://example.org/@ada' }],
  },
  work: [{ name: 'Analytical Engines Ltd', startDate: '1842-09', highlights: ['Note G', 'é ✓ 🚀'], team: { size: 7, remote: false } }],
  skills: [{ name: 'Mathematics', keywords: [] }],
  interests: [],
  meta: { version: 'v1.0.0' },
} as unknown as JsonResume;

const PRESENT = '["basics","basics.profiles","work","skills","interests","meta"]';
const EXTRAS = '{"$schema":"https://raw.githubusercontent.com/jsonresume/resume-schema/v1.0.0/schema.json"}';
/** Non-NULL cells of every row, as text. */
const ROWS: Record<string, Record<string, string>[]> = {
  resume_basics: [{ seq: '0', name: 'Ada Lovelace', label: 'Analyst — “poetical science”', location: '{"city":"London","countryCode":"GB"}', extras: '{"pronouns":"she/her"}' }],
  resume_profiles: [
    { seq: '0', network: 'GitHub', username: 'ada', extras: '{"followers":42}' },
    { seq: '1', network: 'Mastodon', url: 'https://example.org/@ada' },
  ],
  resume_work: [{ seq: '0', name: 'Analytical Engines Ltd', start_date: '1842-09', highlights: '["Note G","é ✓ 🚀"]', extras: '{"team":{"size":7,"remote":false}}' }],
  resume_skills: [{ seq: '0', name: 'Mathematics', keywords: '[]' }],
  resume_interests: [],
  resume_meta: [{ seq: '0', version: 'v1.0.0' }],
};

describe('résumé store on a real MariaDB: the stored format is unchanged', () => {
  let dbs: ApiDatabases;
  let source: DataSource;
  const root = <T>(sql: string, params?: unknown[]) => dbs.topology.primary.query<T>(sql, params);

  /** Every non-NULL cell of a table as text (a JSON column's exact bytes, not a parsed value). */
  const cells = async (table: string): Promise<Record<string, string>[]> => {
    const columns = await root<{ name: string }[]>(
      'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
      ['vita', table],
    );
    const select = columns.map((c) => `CAST(\`${c.name}\` AS CHAR) AS \`${c.name}\``).join(', ');
    const rows = await root<Record<string, string | null>[]>(`SELECT ${select} FROM vita.\`${table}\` ORDER BY 1`);
    return rows.map((row) => Object.fromEntries(Object.entries(row).filter((e): e is [string, string] => e[1] !== null)));
  };

  beforeAll(async () => {
    dbs = await startApiDatabases(0);
    const { primary } = dbs.topology;
    source = createDataSource({ host: primary.host, port: primary.port }, { ...dbs.logins.writer, database: 'vita' }, { timeoutMs: 5000 });
    await source.initialize();
  });
  afterAll(async () => {
    await source?.destroy();
    await dbs?.topology.close();
  });

  it('reads rows in the stored format back as the document, keys in the same order', async () => {
    for (const [table, rows] of Object.entries(ROWS)) {
      for (const row of rows) {
        const columns = Object.keys(row);
        await root(`INSERT INTO vita.\`${table}\` (${columns.map((c) => `\`${c}\``).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, Object.values(row));
      }
    }
    await root('UPDATE vita.resume_state SET version = 41, present = ?, extras = ? WHERE id = 1', [PRESENT, EXTRAS]);

    const stored = await source.transaction('REPEATABLE READ', (manager) => readResume(manager));
    expect(stored.version).toBe(41);
    expect(stored.updatedAt).toBeInstanceOf(Date);
    expect(JSON.stringify(stored.document)).toBe(
      JSON.stringify({
        $schema: DOC.$schema,
        basics: { name: 'Ada Lovelace', label: 'Analyst — “poetical science”', location: { city: 'London', countryCode: 'GB' }, pronouns: 'she/her', profiles: DOC.basics?.profiles },
        work: [{ name: 'Analytical Engines Ltd', startDate: '1842-09', highlights: ['Note G', 'é ✓ 🚀'], team: { size: 7, remote: false } }],
        skills: DOC.skills,
        interests: [],
        meta: DOC.meta,
      }),
    );
    expect(await readVersion(source)).toBe(41);
  });

  it('writes the document in the same format, in one transaction, and bumps the version', async () => {
    await root('UPDATE vita.resume_state SET present = ?, extras = NULL WHERE id = 1', ['[]']);
    for (const table of Object.keys(ROWS)) await root(`INSERT INTO vita.\`${table}\` (seq) VALUES (7)`);

    const result = await source.transaction('REPEATABLE READ', (manager) => writeResume(manager, DOC));
    expect(result).toEqual({ version: 42, conflict: false });
    for (const [table, rows] of Object.entries(ROWS)) expect([table, await cells(table)]).toEqual([table, rows]);
    const [state] = await cells('resume_state');
    expect(state).toMatchObject({ id: '1', version: '42', present: PRESENT, extras: EXTRAS });
    expect(state['updated_at']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/);
    expect((await source.transaction('REPEATABLE READ', (manager) => readResume(manager))).document).toEqual(DOC);
  });
});
