import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The topology: one row per content node, written on the primary and carried to every node by replication. */
export class SiteNodes1764856800000 implements MigrationInterface {
  name = 'SiteNodes1764856800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE site_nodes (
        name VARCHAR(63) NOT NULL PRIMARY KEY,
        address VARCHAR(253) NOT NULL,
        db_port SMALLINT UNSIGNED NOT NULL,
        peer_url VARCHAR(300) NOT NULL,
        state ENUM('joining', 'active', 'leaving') NOT NULL,
        updated_at DATETIME(3) NOT NULL
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE site_nodes');
  }
}
