import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { pidAlive } from './util';

export const MARIADB_INSTALL_COMMAND = 'apt-get install -y mariadb-server';

/** mariadbd (or mariadb-install-db) is not installed; the message is a single line naming the install command. */
export class MariadbNotInstalledError extends Error {
  constructor(what = 'mariadbd') {
    super(`${what} not found: install it with \`${MARIADB_INSTALL_COMMAND}\` (as root)`);
    this.name = 'MariadbNotInstalledError';
  }
}

export interface MariadbBinaries {
  mariadbd: string;
  installDb: string;
}

const isExecutable = (p: string): boolean => {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/**
 * Locates mariadbd and mariadb-install-db in PATH, /usr/sbin and /usr/bin.
 * `VITA_MARIADBD` / `VITA_MARIADB_INSTALL_DB` override the lookup (used as-is, not searched).
 */
export function findMariadbd(env: NodeJS.ProcessEnv = process.env): MariadbBinaries {
  const dirs = [...(env['PATH'] ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
  const lookup = (names: string[], override: string | undefined, extraDirs: string[] = []): string => {
    const found =
      override !== undefined
        ? [override].find(isExecutable)
        : [...extraDirs, ...dirs].flatMap((d) => names.map((n) => join(d, n))).find(isExecutable);
    if (!found) throw new MariadbNotInstalledError(override !== undefined ? `${names[0]} (${override})` : names[0]);
    return found;
  };
  const mariadbd = lookup(['mariadbd', 'mysqld'], env['VITA_MARIADBD']);
  const installDb = lookup(['mariadb-install-db', 'mysql_install_db'], env['VITA_MARIADB_INSTALL_DB'], [
    dirname(mariadbd),
    join(dirname(mariadbd), '..', 'bin'),
  ]);
  return { mariadbd, installDb };
}

/** InnoDB file layout shared by the template and every server started from it (small files, fast copies). */
export const INNODB_FILE_ARGS = ['--innodb-log-file-size=8M', '--innodb-data-file-path=ibdata1:12M:autoextend'];
const TEMPLATE_REV = 1;
const TEMPLATE_PREFIX = 'vita-mdb-template-';
// Only root@localhost (unix socket, no password) survives: no passwordless root over TCP.
const INIT_SQL = [
  "DELETE FROM mysql.global_priv WHERE User <> 'mariadb.sys' AND NOT (User = 'root' AND Host = 'localhost');",
  "DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';",
].join('\n');
const pendingTemplates = new Map<string, Promise<string>>();

/**
 * An initialised, never-started data directory cached under os.tmpdir() (one per mariadbd binary),
 * created with mariadb-install-db in a private temp dir and renamed into place (atomic; racing processes are fine).
 * Copy it, never start a server on it.
 */
export function templateDataDir(bins: MariadbBinaries = findMariadbd()): Promise<string> {
  const real = realpathSync(bins.mariadbd);
  const st = statSync(real);
  const key = createHash('sha1').update(JSON.stringify([real, st.size, st.mtimeMs, TEMPLATE_REV, INNODB_FILE_ARGS])).digest('hex').slice(0, 12);
  const final = join(tmpdir(), TEMPLATE_PREFIX + key);
  let pending = pendingTemplates.get(final);
  if (!pending) {
    pending = buildTemplate(bins.installDb, final).finally(() => pendingTemplates.delete(final));
    pendingTemplates.set(final, pending);
  }
  return pending;
}

async function buildTemplate(installDb: string, final: string): Promise<string> {
  const done = (dir: string) => existsSync(join(dir, '.vita-template-complete'));
  if (done(final)) return final;
  for (const e of readdirSync(tmpdir())) {
    const owner = /^vita-mdb-template-.*\.tmp-(\d+)-/.exec(e);
    if (owner && !pidAlive(Number(owner[1]))) rmSync(join(tmpdir(), e), { recursive: true, force: true });
  }
  const work = `${final}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const dataDir = join(work, 'data');
  const sqlFile = join(work, 'init.sql');
  try {
    mkdirSync(work, { mode: 0o700 });
    writeFileSync(sqlFile, INIT_SQL);
    const args = ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve', `--extra-file=${sqlFile}`, ...INNODB_FILE_ARGS];
    if (process.getuid?.() === 0) args.push('--user=root');
    try {
      await promisify(execFile)(installDb, args, { timeout: 120_000, maxBuffer: 4 << 20 });
    } catch (e) {
      const out = e as { stdout?: string; stderr?: string; message: string };
      const tail = `${out.stdout ?? ''}\n${out.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
      throw new Error(`mariadb-install-db failed (${out.message.split('\n')[0]}):\n${tail}`);
    }
    writeFileSync(join(dataDir, '.vita-template-complete'), new Date().toISOString());
    try {
      renameSync(dataDir, final);
    } catch (e) {
      // Another process won the race: its template is as good as ours.
      if (!done(final)) throw e;
    }
    return final;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
