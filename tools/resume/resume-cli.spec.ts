import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, importResume, main, parseJson } from './resume-cli';

describe('resume import/export command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vita-cli-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Nothing listens on port 9 (discard) on loopback here: any HTTP call would fail with "cannot reach".
  const ctx = { apiUrl: 'http://127.0.0.1:9', token: 't'.repeat(20), out: () => undefined };

  it('names the line and column of a JSON syntax error', () => {
    expect(() => parseJson('{\n  "basics": {\n    "name": "A",,\n  }\n}', 'r.json')).toThrow(/^r\.json:3:17: not valid JSON/);
  });

  it('refuses an invalid résumé before sending anything, listing every violation with its path', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ basics: { url: 'not a uri' }, skills: [{ keywords: ['ok', 7] }] }));
    const attempt = importResume(file, ctx);
    await expect(attempt).rejects.toThrow(CliError);
    await expect(importResume(file, ctx)).rejects.toThrow(
      'bad.json: 2 error(s), nothing was imported:\n  basics.url: must be a URI\n  skills[0].keywords[1]: must be a string',
    );
  });

  it('reports an unreachable api plainly', async () => {
    const file = join(dir, 'good.json');
    writeFileSync(file, JSON.stringify({ basics: { name: 'Ada' } }));
    await expect(importResume(file, ctx)).rejects.toThrow(/^cannot reach the api at http:\/\/127\.0\.0\.1:9/);
  });

  it('prints usage and exits 2 on a wrong command line', async () => {
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    try {
      expect(await main(['frobnicate', 'x.json'])).toBe(2);
      expect(await main(['import'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(errors[0]).toMatch(/^usage: npm run resume -- import/);
  });
});
