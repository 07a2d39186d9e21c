import type { MigrationInterface, QueryRunner } from 'typeorm';

// A migration is a frozen record of the schema at one point in time: it never reads the
// application's current table definitions.
const TEXT = 'MEDIUMTEXT NULL';
const JSON_COL = (name: string) => `\`${name}\` LONGTEXT NULL CHECK (\`${name}\` IS NULL OR JSON_VALID(\`${name}\`))`;

const ITEM_TABLES: Record<string, string[]> = {
  resume_basics: ['name', 'label', 'image', 'email', 'phone', 'url', 'summary', 'json:location'],
  resume_profiles: ['network', 'username', 'url'],
  resume_work: ['name', 'location', 'description', 'position', 'url', 'start_date', 'end_date', 'summary', 'json:highlights'],
  resume_volunteer: ['organization', 'position', 'url', 'start_date', 'end_date', 'summary', 'json:highlights'],
  resume_education: ['institution', 'url', 'area', 'study_type', 'start_date', 'end_date', 'score', 'json:courses'],
  resume_awards: ['title', 'date', 'awarder', 'summary'],
  resume_certificates: ['name', 'date', 'url', 'issuer'],
  resume_publications: ['name', 'publisher', 'release_date', 'url', 'summary'],
  resume_skills: ['name', 'level', 'json:keywords'],
  resume_languages: ['language', 'fluency'],
  resume_interests: ['name', 'json:keywords'],
  resume_references: ['name', 'reference'],
  resume_projects: ['name', 'description', 'start_date', 'end_date', 'url', 'entity', 'type', 'json:highlights', 'json:keywords', 'json:roles'],
  resume_meta: ['canonical', 'version', 'last_modified'],
};

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';

export class InitialSchema1764079200000 implements MigrationInterface {
  name = 'InitialSchema1764079200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE resume_state (
        id TINYINT UNSIGNED NOT NULL PRIMARY KEY CHECK (id = 1),
        version INT UNSIGNED NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        present LONGTEXT NOT NULL CHECK (JSON_VALID(present)),
        ${JSON_COL('extras')}
      ) ${TABLE_OPTIONS}`,
    );
    await q.query(`INSERT INTO resume_state (id, version, updated_at, present) VALUES (1, 0, UTC_TIMESTAMP(3), '[]')`);
    for (const [table, columns] of Object.entries(ITEM_TABLES)) {
      const defs = columns.map((c) => (c.startsWith('json:') ? JSON_COL(c.slice(5)) : `\`${c}\` ${TEXT}`));
      await q.query(
        `CREATE TABLE \`${table}\` (seq INT UNSIGNED NOT NULL PRIMARY KEY, ${defs.join(', ')}, ${JSON_COL('extras')}) ${TABLE_OPTIONS}`,
      );
    }
    await q.query(`CREATE TABLE probe (id TINYINT UNSIGNED NOT NULL PRIMARY KEY, message VARCHAR(100) NOT NULL) ${TABLE_OPTIONS}`);
    await q.query(`INSERT INTO probe (id, message) VALUES (1, 'vita database probe')`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['probe', ...Object.keys(ITEM_TABLES).reverse(), 'resume_state']) {
      await q.query(`DROP TABLE \`${table}\``);
    }
  }
}
