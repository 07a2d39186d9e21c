import { freePort, sampleResume, workspaceRoot } from '@vita/testing';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';
import { FakeApi } from '../test/fake-api';
import { CHROMIUM, CHROMIUM_ARGS } from './oracle';
import { timedGet, WebProcess } from './web-process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PAGE = '<!doctype html><html><head><title>t</title></head><body>THEMED</body></html>';

/**
 * The built bundle, run with its working directory in a temp folder whose node_modules holds hostile
 * theme packages (web looks for themes in the bundle's folder and the working directory).
 */
describe('attack: hostile themes and documents against the built web', () => {
  const dist = join(workspaceRoot(), 'dist', 'apps', 'web', 'main.js');
  const dir = mkdtempSync(join(tmpdir(), 'vita-attack15-'));
  const api = new FakeApi();
  const sample = sampleResume();
  const webs: WebProcess[] = [];
  let browser: Browser | undefined;

  const theme = (name: string, index: string) => {
    const root = join(dir, 'node_modules', `jsonresume-theme-${name}`);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: `jsonresume-theme-${name}`, main: 'index.js' }));
    writeFileSync(join(root, 'index.js'), index);
  };
  const web = async (env: Record<string, string>, name: string, wait = true) => {
    const w = new WebProcess(await freePort(), { API_URLS: api.url, ...env }, join(dir, `${name}.log`), dir);
    webs.push(w);
    if (wait && !(await w.start())) throw new Error(`web did not start:\n${existsSync(w.logFile) ? w.log().slice(-2000) : ''}`);
    return w;
  };
  /** Publishes `doc` and waits (bounded) until web has fetched that version (its /resume.json ETag). */
  const publish = async (w: WebProcess, doc: object) => {
    api.publish(doc);
    for (let i = 0; i < 100; i++) {
      const res = await timedGet(`${w.url}/resume.json`, 2000, { 'accept-encoding': 'identity' });
      if (res.headers?.get('etag') === `"v${api.version}"`) return;
      await sleep(50);
    }
    throw new Error('web did not fetch the new version');
  };

  beforeAll(async () => {
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`npx nx build web\``);
    theme('hang', 'exports.render = () => new Promise(() => {});');
    theme('stray', `exports.render = () => { Promise.reject(new Error('a stray rejection')); return ${JSON.stringify(PAGE)}; };`);
    theme('late', `exports.render = () => { setTimeout(() => { throw new Error('thrown later'); }, 20); return ${JSON.stringify(PAGE)}; };`);
    await api.start();
    api.publish(sample);
  }, 30_000);
  // Every test leaves the api serving the plain sample, whether it passed or not.
  afterEach(() => api.publish(sample));
  afterAll(async () => {
    await browser?.close();
    await Promise.all(webs.map((w) => w.stop()));
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a document naming a theme whose render never settles: GET / still answers (built-in page) within 10 s', async () => {
    const w = await web({}, 'meta-hang');
    await publish(w, { ...sample, meta: { ...sample.meta, theme: 'hang' } });
    const page = await timedGet(`${w.url}/`, 10_000);
    expect(page.status).toBe(200);
    api.publish(sample);
    await w.stop();
  }, 60_000);

  it('RESUME_THEME naming a theme whose render never settles: web does not hang at start (ready, or exit 1 with one line) within 20 s', async () => {
    const w = await web({ RESUME_THEME: 'hang' }, 'env-hang', false);
    const ready = await w.start(20_000);
    const exited = w.exit?.code === 1 && /RESUME_THEME=hang/.test(w.log());
    expect({ ready, exited, running: w.running }).not.toEqual({ ready: false, exited: false, running: true });
    await w.stop();
  }, 60_000);

  it.each([
    ['stray', 'leaves a promise rejection unhandled'],
    ['late', 'throws from a timer after rendering'],
  ])('a document naming a theme that %s (%s) does not take web down', async (name) => {
    const w = await web({}, `meta-${name}`);
    await publish(w, { ...sample, meta: { ...sample.meta, theme: name } });
    await timedGet(`${w.url}/`, 5000);
    await sleep(1000);
    const live = await timedGet(`${w.url}/health/live`, 2000);
    expect({ running: w.running, live: live.status, exit: w.exit }).toEqual({ running: true, live: 200, exit: undefined });
    api.publish(sample);
    await w.stop();
  }, 60_000);

  it('a document for jsonresume-theme-even with a 20 KB meta.themeOptions.colors value does not freeze web (health answers within 5 s while the page is made)', async () => {
    const w = await web({}, 'even-dos');
    // even writes meta.themeOptions.colors into the style attribute of <html>; pagePolicy's CSS scan then backtracks.
    const colors = { background: [`url(${' '.repeat(20_000)}`] };
    await publish(w, { ...sample, meta: { ...sample.meta, theme: 'even', themeOptions: { colors } } });
    const page = timedGet(`${w.url}/`, 60_000);
    await sleep(300);
    const live = await timedGet(`${w.url}/health/live`, 30_000);
    const served = await page;
    console.log(`page after ${served.ms} ms; /health/live after ${live.ms} ms`);
    expect(served.status).toBe(200);
    expect(live.ms).toBeLessThan(5000);
    api.publish(sample);
    await w.stop();
  }, 120_000);

  describe('in Chromium', () => {
    beforeAll(async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    });

    const visit = async (url: string, reload = false) => {
      const page = await browser!.newPage();
      const violations: string[] = [];
      page.on('console', (m) => /Content.Security.Policy/i.test(m.text()) && violations.push(m.text().slice(0, 200)));
      const statuses: number[] = [];
      page.on('response', (r) => r.url() === url && statuses.push(r.status()));
      try {
        await page.goto(url, { waitUntil: 'load' });
        await page.waitForTimeout(300);
        if (reload) {
          violations.length = 0;
          await page.reload({ waitUntil: 'load' });
          await page.waitForTimeout(300);
        }
        return { violations, title: await page.title(), statuses };
      } finally {
        await page.close();
      }
    };

    it('a theme page revalidated by the browser (304) is shown again without CSP violations', async () => {
      const w = await web({ RESUME_THEME: 'flat', PAGE_MAX_AGE_SECONDS: '0' }, 'flat-304');
      const first = await visit(`${w.url}/`);
      expect(first.violations).toEqual([]);
      const again = await visit(`${w.url}/`, true);
      console.log('statuses seen', again.statuses);
      expect(again.violations).toEqual([]);
      await w.stop();
    }, 60_000);

    it('text of the document cannot get an event handler whitelisted by the page’s CSP (stackoverflow theme, its [text](url) markup)', async () => {
      const w = await web({ RESUME_THEME: 'stackoverflow' }, 'so-xss');
      const plain = await timedGet(`${w.url}/`, 10_000);
      const plainScript = /script-src [^;]*/.exec(plain.headers?.get('content-security-policy') ?? '')?.[0];
      const summary = 'See [my site](https://x.example/https://y.example/autofocus/onfocus=document.title=/PWN/.source//)';
      await publish(w, { ...sample, basics: { ...sample.basics, summary } });
      const page = await timedGet(`${w.url}/`, 10_000);
      const script = /script-src [^;]*/.exec(page.headers?.get('content-security-policy') ?? '')?.[0];
      const shown = await visit(`${w.url}/`);
      expect({ script, title: shown.title }).toEqual({ script: plainScript, title: expect.not.stringMatching(/^PWN$/) });
      // (the title is set by the injected handler when Chromium runs it)
      api.publish(sample);
      await w.stop();
    }, 60_000);
  });
});
