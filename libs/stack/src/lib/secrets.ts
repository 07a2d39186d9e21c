import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { parseEnvFile } from '@vita/runtime';

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
  // The warehouse's join endpoints (repl-admin's REPL_JOIN_SECRET); 32 characters.
  'REPL_JOIN_SECRET',
  // The dns controllers: drain/undrain, and the view exchange between them.
  'DNS_ADMIN_TOKEN',
  'DNS_PEER_TOKEN',
] as const;
export type Secrets = Record<(typeof SECRET_NAMES)[number], string>;

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
