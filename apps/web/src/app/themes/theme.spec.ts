import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { THEME_CHECK_DOCUMENT } from './sample';
import { loadTheme, ThemeError, themeFolders, themePackage } from './theme';

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
  let modules: string;
  const fakeTheme = (name: string, files: Record<string, string>) => {
    const root = join(modules, name);
    mkdirSync(root, { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(root, file), text);
  };
  const cjs = (name: string, index: string) => fakeTheme(`jsonresume-theme-${name}`, { 'package.json': '{"main":"index.js"}', 'index.js': index });
  const PAGE = JSON.stringify('<!doctype html><title>t</title><p>page</p>');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vita-themes-'));
    modules = join(dir, 'node_modules');
    cjs('throws', "exports.render = () => { throw new Error('no basics.x'); };");
    cjs('empty', 'exports.render = () => undefined;');
    cjs('text', "exports.render = () => 'just words';");
    cjs('none', 'exports.other = 1;');
    cjs('broken', 'this is not javascript');
    cjs('hangs', 'exports.render = () => new Promise(() => setInterval(() => undefined, 100));');
    cjs('never', 'exports.render = () => new Promise(() => {});');
    cjs('loops', 'exports.render = () => { for (;;) {} };');
    cjs('exits', 'exports.render = () => process.exit(3);');
    cjs('stray', `exports.render = () => { Promise.reject(new Error('stray')); setTimeout(() => { throw new Error('later'); }, 5); return ${PAGE}; };`);
    cjs('strayonly', "exports.render = () => new Promise(() => { setTimeout(() => { throw new Error('boom later'); }, 5); });");
    cjs('prints', `exports.render = () => { console.log('from the theme'); return ${PAGE}; };`);
    fakeTheme('jsonresume-theme-badjson', { 'package.json': '{"main":', 'index.js': '' });
    fakeTheme('jsonresume-theme-async', {
      'package.json': '{"exports":{".":{"types":"./x.d.ts","require":"./index.js","default":"./index.js"}}}',
      'index.js': "module.exports = { render: async (r) => { r.basics.name = 'changed'; return '<!doctype html><title>' + r.work.length + '</title>'; } };",
    });
    fakeTheme('jsonresume-theme-esm', { 'package.json': '{"type":"module","exports":{".":{"require":"./no.cjs","import":"./index.js"}}}', 'index.js': `export const render = (r) => '<html><body>' + r.basics.name + '</body></html>';` });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders with installed theme packages from npm, ES module ones too', async () => {
    for (const name of ['flat', 'jsonresume-theme-stackoverflow', 'even']) {
      const theme = loadTheme(name);
      const html = await theme.render(THEME_CHECK_DOCUMENT);
      expect([theme.name, html]).toEqual([themePackage(name), expect.stringContaining('Sample Person')]);
    }
    expect(await loadTheme('esm', [modules]).render(THEME_CHECK_DOCUMENT)).toBe('<html><body>Sample Person</body></html>');
  });

  it('takes a render that returns a promise, and gives it a copy of the document', async () => {
    const doc = structuredClone(THEME_CHECK_DOCUMENT);
    expect(await loadTheme('async', [modules]).render(doc)).toBe('<!doctype html><title>1</title>');
    expect(doc.basics?.name).toBe('Sample Person');
  });

  it('looks where web’s own dependencies are, and in the working directory’s node_modules, not above it or in global folders', () => {
    expect(themeFolders('/srv/vita/app', '/tmp/somewhere')).toEqual(['/srv/vita/app/node_modules', '/srv/vita/node_modules', '/srv/node_modules', '/node_modules', '/tmp/somewhere/node_modules']);
  });

  it('looks only in the node_modules folders it is given', () => {
    expect(() => loadTheme('async', [join(dir, 'elsewhere', 'node_modules')])).toThrow(/^theme jsonresume-theme-async is not installed/);
  });

  it.each([
    ['missing', /^theme jsonresume-theme-missing is not installed/],
    ['badjson', /^theme jsonresume-theme-badjson: its package\.json cannot be read/],
  ])('refuses a theme that is %s, naming the package', (name, message) => {
    expect(() => loadTheme(name, [modules])).toThrow(message);
    expect(() => loadTheme(name, [modules])).toThrow(ThemeError);
  });

  it.each([
    ['none', /^theme jsonresume-theme-none has no render\(resume\) function$/],
    ['broken', /^theme jsonresume-theme-broken cannot be loaded: /],
    ['empty', /^theme jsonresume-theme-empty returned no HTML \(undefined\)$/],
    ['text', /^theme jsonresume-theme-text returned a string that is not an HTML page$/],
    ['throws', /^theme jsonresume-theme-throws threw: no basics\.x$/],
    ['hangs', /^theme jsonresume-theme-hangs did not finish rendering within 1 s$/],
    ['never', /^theme jsonresume-theme-never gave no page \(its render's promise never settled\)$/],
    ['loops', /^theme jsonresume-theme-loops did not finish rendering within 1 s$/],
    ['strayonly', /^theme jsonresume-theme-strayonly failed while rendering: boom later$/],
    ['exits', /^theme jsonresume-theme-exits ended its rendering \(exit code 3\) without a page$/],
  ])('a theme that %s fails its rendering with one line, and this process goes on', async (name, message) => {
    const theme = loadTheme(name, [modules], 1000);
    await expect(theme.render(THEME_CHECK_DOCUMENT)).rejects.toThrow(message);
    await expect(theme.render(THEME_CHECK_DOCUMENT)).rejects.toBeInstanceOf(ThemeError);
  });

  it('a stray rejection or a late throw in the theme, and what it prints, stay in its thread', async () => {
    expect(await loadTheme('stray', [modules]).render(THEME_CHECK_DOCUMENT)).toContain('<p>page</p>');
    expect(await loadTheme('prints', [modules]).render(THEME_CHECK_DOCUMENT)).toContain('<p>page</p>');
    await new Promise((r) => setTimeout(r, 50));
  });
});
