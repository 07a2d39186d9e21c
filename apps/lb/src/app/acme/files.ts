import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Writes `data` to `file` so a reader sees either the old or the new content, never a mix: a temp
 * file beside it (same folder, created with `mode`), fsync, rename over the target, fsync the folder.
 */
export function writeFileAtomic(file: string, data: string | Buffer, mode: number): void {
  writeFilesAtomic([{ file, data, mode }]);
}

/**
 * Replaces several files (a key and its certificate) so that a failure to write any of them (a full
 * disk, a read-only folder) changes none: every new content is written to a temp file and synced
 * first, and only then is each renamed over its target, in the order given.
 */
export function writeFilesAtomic(files: { file: string; data: string | Buffer; mode: number }[]): void {
  const temps: string[] = [];
  try {
    for (const { file, data, mode } of files) {
      const dir = dirname(file);
      mkdirSync(dir, { recursive: true });
      const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      temps.push(tmp);
      const fd = openSync(tmp, 'wx', mode);
      try {
        const buf = typeof data === 'string' ? Buffer.from(data) : data;
        let off = 0;
        while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    files.forEach(({ file }, i) => renameSync(temps[i], file));
  } catch (e) {
    for (const tmp of temps) rmSync(tmp, { force: true });
    throw e;
  }
  for (const dir of new Set(files.map(({ file }) => dirname(file)))) syncDir(dir);
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on a directory; the rename is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
