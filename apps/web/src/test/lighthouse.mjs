// Runs Lighthouse on one URL with Debian's Chromium and prints one JSON line: each category's score
// and every scored audit below 1. Usage: node lighthouse.mjs <url> [report.json]
// Chromium resolves only 127.0.0.1 and localhost: nothing leaves the machine (a theme's CDN links fail at once).
import { writeFileSync } from 'node:fs';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';

const [url, report] = process.argv.slice(2);
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
  chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost'],
});
try {
  const categories = ['performance', 'accessibility', 'best-practices', 'seo'];
  const result = await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error' }, { extends: 'lighthouse:default', settings: { onlyCategories: categories } });
  const lhr = result.lhr;
  if (report) writeFileSync(report, result.report);
  const scored = (a) => a.score !== null && !['informative', 'manual', 'notApplicable'].includes(a.scoreDisplayMode);
  console.log(
    JSON.stringify({
      runtimeError: lhr.runtimeError?.code ?? null,
      scores: Object.fromEntries(categories.map((id) => [id, Math.round((lhr.categories[id].score ?? 0) * 100)])),
      below: categories.flatMap((id) =>
        lhr.categories[id].auditRefs
          .filter((ref) => ref.weight > 0)
          .map((ref) => lhr.audits[ref.id])
          .filter((a) => scored(a) && a.score < 1)
          .map((a) => ({ category: id, id: a.id, score: a.score, title: a.title })),
      ),
    }),
  );
} finally {
  await chrome.kill();
}
