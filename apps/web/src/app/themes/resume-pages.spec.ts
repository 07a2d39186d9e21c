import { Logger } from '@nestjs/common';
import { loadEnv } from '@vita/runtime';
import { WebEnv } from '../config/env';
import type { PageRenderer } from '../page/page.renderer';
import { AssetStore, resourceDir } from '../static/assets';
import { ResumePages } from './resume-pages';
import type { Theme } from './theme';
import { scriptsOf } from './page-policy';

describe('ResumePages', () => {
  const builtIn = { resume: async () => ({ html: '<p>built-in</p>', etag: '"b"' }) } as unknown as PageRenderer;
  const assets = new AssetStore(resourceDir('assets'), '/assets');
  const pages = (extra: Record<string, string> = {}) => new ResumePages(builtIn, assets, loadEnv(WebEnv, { API_URLS: 'http://127.0.0.1:1', ...extra }));
  let warnings: string[];
  beforeEach(() => {
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((m: unknown) => void warnings.push(String(m)));
    jest.spyOn(Logger.prototype, 'error').mockImplementation((m: unknown) => void warnings.push(String(m)));
  });
  afterEach(() => jest.restoreAllMocks());

  it('without RESUME_THEME or meta.theme: the built-in page', async () => {
    expect((await pages().page({ basics: { name: 'A' } })).html).toBe('<p>built-in</p>');
  });

  it('a theme that throws on this document: the built-in page, and an error line naming the theme', async () => {
    const p = pages();
    const failing: Theme = { name: 'jsonresume-theme-x', render: async () => Promise.reject(new Error('Cannot read properties of undefined (reading address)')) };
    (p as unknown as { configured: unknown }).configured = { theme: failing, scripts: scriptsOf('') };
    expect((await p.page({ basics: { name: 'A' } })).html).toBe('<p>built-in</p>');
    expect(warnings).toEqual(['jsonresume-theme-x failed on this document (Cannot read properties of undefined (reading address)): serving the built-in page']);
  });

  it('a meta.theme that is no theme name, or not installed: the page it would have had otherwise, and a warning', async () => {
    for (const theme of ['../../etc/passwd', 'no-such-theme']) {
      expect((await pages().page({ basics: { name: 'A' }, meta: { theme } })).html).toBe('<p>built-in</p>');
    }
    expect(warnings[0]).toMatch(/^meta\.theme "\.\.\/\.\.\/etc\/passwd": "\.\.\/\.\.\/etc\/passwd" is not a JSON Resume theme name .*; serving the built-in page$/);
    expect(warnings[1]).toMatch(/^meta\.theme "no-such-theme": theme jsonresume-theme-no-such-theme is not installed .*; serving the built-in page$/);
  });

  it('a theme page gets the portrait as web’s asset URL, a CSP of its own and a content hash ETag', async () => {
    const p = pages();
    let given: unknown;
    const theme: Theme = { name: 'jsonresume-theme-y', render: async (doc) => ((given = doc), '<html><head><style>b{}</style></head><body>y</body></html>') };
    (p as unknown as { configured: unknown }).configured = { theme, scripts: scriptsOf('') };
    const page = await p.page({ basics: { name: 'A', image: 'portrait.svg' } });
    expect(given).toEqual({ basics: { name: 'A', image: expect.stringMatching(/^\/assets\/portrait\.[0-9a-f]{10}\.svg$/) } });
    expect(page.etag).toMatch(/^"[\w-]{22}"$/);
    expect(page.headers?.[0][0]).toBe('content-security-policy');
    expect(page.html).toContain('<link rel="icon"');
  });

  it('RESUME_THEME that is not installed stops the start, naming the variable', async () => {
    await expect(pages({ RESUME_THEME: 'no-such-theme' }).onModuleInit()).rejects.toThrow(/^RESUME_THEME=no-such-theme: theme jsonresume-theme-no-such-theme is not installed/);
  });
});
