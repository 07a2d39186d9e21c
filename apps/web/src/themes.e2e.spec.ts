import { freePort, sampleResume, workspaceRoot } from '@vita/testing';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';
import { BundleProcess, within } from './test/bundles';
import { FakeApi } from './test/fake-api';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * Browser flags: nothing leaves loopback. The themes link stylesheets and fonts on CDNs; every name
 * but 127.0.0.1 resolves to nothing, so those requests fail at once, in the browser, before any
 * Content-Security-Policy check would be reported for them.
 */
export const OFFLINE_CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'];

/** Themes from npm (dev dependencies): an ES module one with an inline module script, and two CommonJS ones, one with many style attributes. */
const THEMES = ['jsonresume-theme-even', 'jsonresume-theme-flat', 'jsonresume-theme-stackoverflow'];

describe('JSON Resume themes from npm (the built bundle, a real Chromium)', () => {
  const dist = join(workspaceRoot(), 'dist', 'apps', 'web', 'main.js');
  const out = join(workspaceRoot(), 'test-output', 'web');
  const logs = mkdtempSync(join(tmpdir(), 'vita-web-themes-'));
  const api = new FakeApi();
  const sample = sampleResume();
  let browser: Browser;
  const webs: BundleProcess[] = [];

  const startWeb = async (env: Record<string, string>, name: string): Promise<BundleProcess> => {
    const web = new BundleProcess('web', await freePort(), { API_URLS: api.url, LOG_LEVEL: 'info', ...env }, join(logs, `${name}.log`));
    webs.push(web);
    await web.start();
    return web;
  };

  beforeAll(async () => {
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`npx nx build web\``);
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install it with \`apt-get install -y chromium\` (as root)`);
    mkdirSync(out, { recursive: true });
    await api.start();
    api.publish(sample);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: OFFLINE_CHROMIUM_ARGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all(webs.map((w) => w.stop()));
    await api.stop();
    rmSync(logs, { recursive: true, force: true });
  });

  /** Loads the page; what the browser reported about the Content-Security-Policy, and the response. */
  async function visit(url: string, screenshot?: string) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const violations: string[] = [];
    page.on('console', (m) => /Content Security Policy/i.test(m.text()) && violations.push(m.text()));
    await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { reportViolation(v: string): void }).reportViolation(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const res = await page.goto(url, { waitUntil: 'load' });
    // Late reports (a style applied after load) arrive within a moment.
    await page.waitForTimeout(300);
    const text = await page.locator('body').innerText();
    const headers = (await res?.allHeaders()) ?? {};
    if (screenshot) await page.screenshot({ path: join(out, screenshot), fullPage: true });
    await page.close();
    return { status: res?.status(), headers, violations, text };
  }

  it.each(THEMES)('%s: served with a CSP built from the page, and shown without a single violation', async (theme) => {
    const web = await startWeb({ RESUME_THEME: theme, PUBLIC_URL: 'https://resume.example.org/' }, theme);
    const seen = await visit(`${web.url}/`, `theme-${theme.replace('jsonresume-theme-', '')}.png`);
    expect([theme, seen.status, seen.violations]).toEqual([theme, 200, []]);
    expect(seen.text).toContain(sample.basics!.name);
    expect(seen.text).toContain(sample.work![0].name);
    const csp = seen.headers['content-security-policy'];
    expect(csp).toMatch(/^default-src 'none'; style-src /);
    expect(csp).not.toContain('unsafe-inline');
    // Chromium asks for Brotli: the themed page is compressed once, like the built-in one.
    expect(seen.headers['content-encoding']).toBe('br');
    const html = await (await fetch(`${web.url}/`)).text();
    expect(html).toContain('<link rel="canonical" href="https://resume.example.org/">');
    // The document stays exactly as stored.
    expect(await (await fetch(`${web.url}/resume.json`)).json()).toEqual(sample);
    await web.stop();
  }, 60_000);

  it('a document’s meta.theme picks an installed theme; one not installed falls back to the built-in page and says so', async () => {
    const web = await startWeb({}, 'meta');
    const builtIn = await (await fetch(`${web.url}/`)).text();
    expect(builtIn).toContain('class="masthead"');
    api.publish({ ...sample, meta: { ...sample.meta, theme: 'flat' } });
    await within(10_000, 'the flat theme to be served', async () => !(await (await fetch(`${web.url}/`)).text()).includes('class="masthead"'), 50);
    const flat = await visit(`${web.url}/`);
    expect([flat.status, flat.violations]).toEqual([200, []]);
    expect(flat.text).toContain(sample.basics!.name);

    api.publish({ ...sample, meta: { ...sample.meta, theme: 'no-such-theme' } });
    await within(10_000, 'the built-in page to be back', async () => (await (await fetch(`${web.url}/`)).text()).includes('class="masthead"'), 50);
    await within(5000, 'the log line', () => readFileSync(web.logFile, 'utf8').includes('jsonresume-theme-no-such-theme is not installed'), 50);
    expect(readFileSync(web.logFile, 'utf8')).toMatch(/meta\.theme \\?"no-such-theme\\?": theme jsonresume-theme-no-such-theme is not installed .*; serving the built-in page/);
    api.publish(sample);
    await web.stop();
  }, 60_000);

  it.each([
    ['jsonresume-theme-no-such-theme', /^web: RESUME_THEME=jsonresume-theme-no-such-theme: theme jsonresume-theme-no-such-theme is not installed/m],
    ['not a name', /^web: invalid environment: RESUME_THEME must be a theme package name/m],
  ])('RESUME_THEME=%s stops web’s start with one clear line', async (theme, line) => {
    const run = spawnSync(process.execPath, [dist], { env: { PATH: process.env['PATH'] ?? '', PORT: String(await freePort()), HOST: '127.0.0.1', API_URLS: api.url, LOG_LEVEL: 'silent', RESUME_THEME: theme }, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(line);
  });
});
