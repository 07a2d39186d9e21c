import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';

/** The secrets the local stack generates on its first run, kept in `.vita/secrets.env` (mode 600). */
export const SECRET_NAMES = [
  'VITA_ADMIN_TOKEN',
  'LB_ADMIN_TOKEN',
  'REPL_ADMIN_TOKEN',
  'DB_READ_PASSWORD',
  'DB_WRITE_PASSWORD',
  'DB_MIGRATE_PASSWORD',
  'DB_REPL_PASSWORD',
  'REPL_MONITOR_PASSWORD',
  'REPL_ADMIN_PASSWORD',
] as const;
export type Secrets = Record<(typeof SECRET_NAMES)[number], string>;

/** Parses `NAME=value` lines; blank lines and `#` comments are skipped. Errors name the line. */
export function parseEnvFile(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: expected NAME=value`);
    out[m[1]] = m[2];
  });
  return out;
}

/** Reads the secrets file, creating it (or adding missing names) with fresh random values. */
export function ensureSecrets(file: string): Secrets {
  const existing = existsSync(file) ? parseEnvFile(readFileSync(file, 'utf8'), file) : {};
  const missing = SECRET_NAMES.filter((n) => !existing[n]);
  if (missing.length > 0) {
    for (const name of missing) existing[name] = randomBytes(24).toString('base64url');
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, Object.entries(existing).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
    renameSync(tmp, file);
  }
  chmodSync(file, 0o600);
  return existing as Secrets;
}
