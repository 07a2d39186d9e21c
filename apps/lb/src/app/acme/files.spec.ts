import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFilesAtomic } from './files';

describe('writeFilesAtomic (a key and its certificate)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vita-lb-files-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces every file, each with its mode, and leaves no temp file', () => {
    writeFileSync(join(dir, 'key.pem'), 'old key');
    writeFilesAtomic([
      { file: join(dir, 'key.pem'), data: 'new key', mode: 0o600 },
      { file: join(dir, 'cert.pem'), data: 'new cert', mode: 0o644 },
    ]);
    expect(readFileSync(join(dir, 'key.pem'), 'utf8')).toBe('new key');
    expect(readFileSync(join(dir, 'cert.pem'), 'utf8')).toBe('new cert');
    expect(statSync(join(dir, 'key.pem')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('changes nothing when a later file cannot be written (the first is not renamed over its old content)', () => {
    writeFileSync(join(dir, 'key.pem'), 'key in force');
    writeFileSync(join(dir, 'not-a-dir'), 'a file where a folder should be');
    expect(() =>
      writeFilesAtomic([
        { file: join(dir, 'key.pem'), data: 'new key', mode: 0o600 },
        { file: join(dir, 'not-a-dir', 'cert.pem'), data: 'new cert', mode: 0o644 },
      ]),
    ).toThrow(/ENOTDIR|EEXIST/);
    expect(readFileSync(join(dir, 'key.pem'), 'utf8')).toBe('key in force');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
