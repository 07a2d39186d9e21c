import { freePort, sampleResume, workspaceRoot } from '@vita/testing';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BundleProcess } from './test/bundles';
import { FakeApi } from './test/fake-api';

interface Audit {
  category: string;
  id: string;
  score: number;
  title: string;
}

/**
 * Timing metrics: they measure how fast this machine (shared by every other test) ran the page under
 * Lighthouse's simulated mobile throttling, not anything the page does. Reported, never asserted.
 */
const TIMINGS = new Set(['first-contentful-paint', 'largest-contentful-paint', 'speed-index', 'total-blocking-time', 'interactive', 'max-potential-fid', 'cumulative-layout-shift']);

/** What a theme from npm does that web cannot change, by audit: the only audits its page may miss. */
const EVEN_THEME_OWN: Record<string, string> = {
  // jsonresume-theme-even's own colours: its .network labels are #6c7781 on #f3f4f5, 4.15:1 (AA needs 4.5:1).
  'color-contrast': 'the theme’s own colours',
  // It links Google Fonts; a test reaches nothing beyond loopback, so the browser logs the failed load.
  'errors-in-console': 'the theme’s Google Fonts link cannot be reached from a test',
};

function lighthouse(url: string, report: string): Promise<{ runtimeError: string | null; scores: Record<string, number>; below: Audit[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'test', 'lighthouse.mjs'), url, report], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) return reject(new Error(`lighthouse exited ${code}: ${err.slice(-2000)}`));
      resolve(JSON.parse(line));
    });
  });
}

/**
 * Lighthouse 12 (the last major that runs on Node 20) with Debian's Chromium, on web's own page and
 * on a theme from npm, both from the built bundle: every audit that scores passes, but for timing
 * metrics (this shared machine's speed) and, on the theme, what the theme does itself (named above).
 */
describe('Lighthouse on the page (the built bundle, Debian’s Chromium)', () => {
  const out = join(workspaceRoot(), 'test-output', 'web');
  const logs = mkdtempSync(join(tmpdir(), 'vita-web-lighthouse-'));
  const api = new FakeApi();
  const webs: BundleProcess[] = [];

  beforeAll(async () => {
    if (!existsSync(join(workspaceRoot(), 'dist', 'apps', 'web', 'main.js'))) throw new Error('dist/apps/web is missing: run `npx nx build web`');
    mkdirSync(out, { recursive: true });
    await api.start();
    api.publish(sampleResume());
  });
  afterAll(async () => {
    await Promise.all(webs.map((w) => w.stop()));
    await api.stop();
    rmSync(logs, { recursive: true, force: true });
  });

  it.each([
    ['built-in', {}, {}],
    ['jsonresume-theme-even', { RESUME_THEME: 'jsonresume-theme-even' }, EVEN_THEME_OWN],
  ] as const)('%s page: accessibility, best practices and SEO pass every audit, performance every one but timings', async (name, env, own: Record<string, string>) => {
    const web = new BundleProcess('web', await freePort(), { API_URLS: api.url, PUBLIC_URL: 'http://127.0.0.1/', ...env }, join(logs, `${name}.log`));
    webs.push(web);
    await web.start();
    // localhost, as a visitor's browser would name a local server.
    const url = `http://localhost:${web.port}/`;
    let result = await lighthouse(url, join(out, `lighthouse-${name}.json`));
    // A run Lighthouse itself could not measure (NO_NAVSTART and the like on a loaded machine) says nothing of the page: once more.
    if (result.runtimeError !== null) {
      console.warn(`Lighthouse could not measure the ${name} page (${result.runtimeError}); running it once more`);
      result = await lighthouse(url, join(out, `lighthouse-${name}.json`));
    }
    await web.stop();
    console.log(`Lighthouse, ${name} page: ${JSON.stringify(result.scores)}; below 1: ${result.below.map((a) => `${a.category}/${a.id} ${a.score}`).join(', ') || 'none'}`);
    expect(result.runtimeError).toBeNull();
    const unexplained = result.below.filter((a) => !TIMINGS.has(a.id) && own[a.id] === undefined);
    expect(unexplained).toEqual([]);
    if (Object.keys(own).length === 0) {
      for (const category of ['accessibility', 'best-practices', 'seo']) expect([category, result.scores[category]]).toEqual([category, 100]);
    }
  }, 200_000);
});
