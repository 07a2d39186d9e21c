import { RunningStack, startStack } from '@vita/stack';
import { freePort, sampleResume, workspaceRoot } from '@vita/testing';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';

/** Debian's Chromium; CHROMIUM_PATH points elsewhere (e.g. a CI runner's Chrome). */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/**
 * A real browser (Debian's Chromium driven by playwright-core) on the page as `npm start` serves it,
 * through lb in front of two web instances over two apis:
 * visible content, accessibility (axe-core), and screenshots and a PDF of the print view saved under
 * test-output/web/ for a person to look at.
 */
describe('the résumé page in a real browser', () => {
  const home = mkdtempSync(join(tmpdir(), 'vita-web-browser-'));
  const out = join(workspaceRoot(), 'test-output', 'web');
  let stack: RunningStack;
  let browser: Browser;
  let url: string;
  const sample = sampleResume();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install it with \`apt-get install -y chromium\` (as root)`);
    mkdirSync(out, { recursive: true });
    const [primaryPort, replicaPort, api1, api2, web1, web2, lbPort, lbAdminPort] = await Promise.all(Array.from({ length: 8 }, () => freePort()));
    stack = await startStack({
      root: workspaceRoot(),
      home,
      primaryPort,
      replicaPort,
      apiPorts: [api1, api2],
      webPorts: [web1, web2],
      lb: { port: lbPort, adminPort: lbAdminPort, listenHost: '127.0.0.1' },
      build: false,
      say: () => undefined,
    });
    url = `http://127.0.0.1:${lbPort}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('shows the name and every section, with no failed requests and no console errors', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('requestfailed', (r) => problems.push(`${r.url()} ${r.failure()?.errorText}`));
    const res = await page.goto(url);
    expect(res?.status()).toBe(200);
    await expect(page.locator('h1').innerText()).resolves.toBe(sample.basics!.name);
    const headings = await page.locator('main h2').allInnerTexts();
    expect(headings.map((h) => h.toLowerCase())).toEqual(
      ['Summary', 'Experience', 'Projects', 'Volunteering', 'Education', 'Skills', 'Awards', 'Certificates', 'Publications', 'Languages', 'Interests', 'References'].map((h) => h.toLowerCase()),
    );
    await expect(page.locator('img.portrait').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).resolves.toBe(true);
    const css = await page.locator('main').evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(css).toBe('rgb(255, 255, 255)');
    expect(problems).toEqual([]);
    await page.screenshot({ path: join(out, 'desktop.png'), fullPage: true });
    await page.close();
  });

  it('has no serious or critical accessibility violations (axe-core)', async () => {
    // bypassCSP only lets the test inject axe; the page itself runs no script.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(url);
    await page.addScriptTag({ content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') });
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe;
      const result = await axe.run();
      return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
    });
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    await context.close();
  });

  it('reads on a phone and prints to a one- or two-page PDF', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true });
    await phone.goto(url);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: join(out, 'phone.png'), fullPage: true });
    await phone.close();

    const paper = await browser.newPage();
    await paper.goto(url);
    await paper.emulateMedia({ media: 'print' });
    const pdf = await paper.pdf({ path: join(out, 'resume.pdf'), format: 'A4', printBackground: false });
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
    expect(pages).toBeGreaterThanOrEqual(1);
    expect(pages).toBeLessThanOrEqual(2);
    await paper.close();
  });
});
