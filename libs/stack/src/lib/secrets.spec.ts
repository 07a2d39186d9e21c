import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnvFile } from '@vita/runtime';
import { ensureSecrets, SECRET_NAMES } from './secrets';

describe('secrets file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vita-secrets-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is created with every secret, mode 600, and kept as it is on the next run', () => {
    const file = join(dir, 'secrets.env');
    const first = ensureSecrets(file);
    expect(Object.keys(first).sort()).toEqual([...SECRET_NAMES].sort());
    expect(new Set(Object.values(first)).size).toBe(SECRET_NAMES.length);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^VITA_ADMIN_TOKEN=[\w-]{32}$/m);
    expect(ensureSecrets(file)).toEqual(first);
  });

  it('adds only the missing names to an existing file and keeps what the operator set', () => {
    const file = join(dir, 'partial.env');
    writeFileSync(file, '# mine\nVITA_ADMIN_TOKEN=operator-chosen-token-1234\n', { mode: 0o644 });
    const secrets = ensureSecrets(file);
    expect(secrets.VITA_ADMIN_TOKEN).toBe('operator-chosen-token-1234');
    expect(secrets.DB_READ_PASSWORD).toMatch(/^[\w-]{32}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('names the line of a malformed entry', () => {
    expect(() => parseEnvFile('A=1\n\nnot a setting\n', 'x.env')).toThrow('x.env:3: expected NAME=value');
  });
});
