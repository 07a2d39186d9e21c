import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { THEME_CHECK_DOCUMENT } from './sample';
import { loadTheme, ThemeError, themePackage } from './theme';

describe('themePackage', () => {
  it.each([
    ['even', 'jsonresume-theme-even'],
    ['jsonresume-theme-even', 'jsonresume-theme-even'],
    [' flat ', 'jsonresume-theme-flat'],
    ['@acme/jsonresume-theme-plain', '@acme/jsonresume-theme-plain'],
  ])('%j → %s', (name, pkg) => expect(themePackage(name)).toBe(pkg));

  it.each(['node:fs', '../../etc/passwd', '@acme/other', 'jsonresume-theme-', 'Even', 'fs/promises', ''])('refuses %j: only theme packages can be named', (name) => {
    expect(() => themePackage(name)).toThrow(ThemeError);
  });

  it('turns a bare name into a theme package, so a document can never name another module', () => {
    expect(themePackage('child_process')).toBe('jsonresume-theme-child_process');
  });
});

describe('loadTheme', () => {
  let dir: string;
  const fakeTheme = (name: string, files: Record<string, string>) => {
    const root = join(dir, 'node_modules', name);
    mkdirSync(root, { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(root, file), text);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vita-themes-'));
    fakeTheme('jsonresume-theme-throws', { 'package.json': '{"main":"index.js"}', 'index.js': "exports.render = () => { throw new Error('no basics.x'); };" });
    fakeTheme('jsonresume-theme-empty', { 'package.json': '{"main":"index.js"}', 'index.js': 'exports.render = () => undefined;' });
    fakeTheme('jsonresume-theme-text', { 'package.json': '{"main":"index.js"}', 'index.js': "exports.render = () => 'just words';" });
    fakeTheme('jsonresume-theme-none', { 'package.json': '{"main":"index.js"}', 'index.js': 'exports.other = 1;' });
    fakeTheme('jsonresume-theme-broken', { 'package.json': '{"main":"index.js"}', 'index.js': 'this is not javascript' });
    fakeTheme('jsonresume-theme-badjson', { 'package.json': '{"main":', 'index.js': '' });
    fakeTheme('jsonresume-theme-async', {
      'package.json': '{"exports":{".":{"types":"./x.d.ts","require":"./index.js","default":"./index.js"}}}',
      'index.js': "module.exports = { render: async (r) => { r.basics.name = 'changed'; return '<!doctype html><title>' + r.work.length + '</title>'; } };",
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders with installed theme packages from npm (CommonJS ones here; ES module ones in the bundle tests)', async () => {
    for (const name of ['flat', 'jsonresume-theme-stackoverflow']) {
      const theme = await loadTheme(name);
      const html = await theme.render(THEME_CHECK_DOCUMENT);
      expect([theme.name, html]).toEqual([themePackage(name), expect.stringContaining('Sample Person')]);
    }
  });

  it('takes a render that returns a promise, and gives it a copy of the document', async () => {
    const doc = structuredClone(THEME_CHECK_DOCUMENT);
    expect(await (await loadTheme('async', [dir])).render(doc)).toBe('<!doctype html><title>1</title>');
    expect(doc.basics?.name).toBe('Sample Person');
  });

  it.each([
    ['missing', /^theme jsonresume-theme-missing is not installed/],
    ['none', /^theme jsonresume-theme-none has no render\(resume\) function$/],
    ['broken', /^theme jsonresume-theme-broken cannot be loaded: /],
    ['badjson', /^theme jsonresume-theme-badjson: its package\.json cannot be read/],
  ])('refuses a theme that is %s, naming the package', async (name, message) => {
    await expect(loadTheme(name, [dir])).rejects.toThrow(message);
    await expect(loadTheme(name, [dir])).rejects.toBeInstanceOf(ThemeError);
  });

  it.each([
    ['empty', /^theme jsonresume-theme-empty returned no HTML \(undefined\)$/],
    ['text', /^theme jsonresume-theme-text returned a string that is not an HTML page$/],
    ['throws', /^no basics\.x$/],
  ])('a theme whose render is %s fails when rendering', async (name, message) => {
    const theme = await loadTheme(name, [dir]);
    await expect(theme.render(THEME_CHECK_DOCUMENT)).rejects.toThrow(message);
  });
});
