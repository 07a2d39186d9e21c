import { freePort, sampleResume } from '@vita/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BundleProcess, Databases, putResume, startDatabases, within } from '../../test/bundles';

interface Ready {
  checks: { detail: { push: { url: string; state: string }[]; stale: boolean } }[];
}

/**
 * The built api and web bundles as processes over a real primary and replica: api A and B serve
 * web; api W (not in web's API_URLS) takes writes while A and B are frozen. Web "push" holds an
 * hour of CACHE_TTL_MS and of PUSH_CHECK_MS (anything new reaches it by push); web "poll" has push
 * off and the defaults; web "watch" has push on, an hour of CACHE_TTL_MS and PUSH_CHECK_MS 1000
 * (its backstop check, while its streams stay open, is what finds the apis frozen).
 */
describe('web over real api processes: hung apis, push, api restarts', () => {
  const logs = mkdtempSync(join(tmpdir(), 'vita-web-hung-'));
  let dbs: Databases;
  let a: BundleProcess;
  let b: BundleProcess;
  let writer: BundleProcess;
  let push: BundleProcess;
  let poll: BundleProcess;
  let watch: BundleProcess;
  const label = (text: string) => ({ ...sampleResume(), basics: { ...sampleResume().basics, label: text } });
  const put = (text: string) => putResume(writer.url, dbs.adminToken, label(text));
  const page = async (web: BundleProcess) => {
    const started = performance.now();
    const res = await fetch(web.url, { signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    return { status: res.status, body, stale: res.headers.get('x-vita-stale'), ms: performance.now() - started };
  };
  const ready = async (web: BundleProcess) => ((await (await fetch(`${web.url}/health/ready`)).json()) as Ready).checks[0].detail;

  beforeAll(async () => {
    dbs = await startDatabases();
    const [pa, pb, pw, p1, p2, p3] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    const api = (port: number) => new BundleProcess('api', port, dbs.apiEnv, join(logs, `api-${port}.log`));
    [a, b, writer] = [api(pa), api(pb), api(pw)];
    await Promise.all([a, b, writer].map((s) => s.start()));
    const version = await put('Site Reliability Engineer');
    await within(10_000, 'the apis to serve the first version', async () => {
      const tags = await Promise.all([a, b].map((s) => fetch(`${s.url}/api/v1/resume`).then((r) => r.headers.get('etag'))));
      return tags.every((t) => t === `"v${version}"`);
    }, 50);
    const apiUrls = [a.url, b.url].join(',');
    push = new BundleProcess('web', p1, { API_URLS: apiUrls, CACHE_TTL_MS: '3600000', PUSH_CHECK_MS: '3600000' }, join(logs, 'web-push.log'));
    poll = new BundleProcess('web', p2, { API_URLS: apiUrls, API_PUSH: 'off', API_TIMEOUT_MS: '1000', CACHE_TTL_MS: '1000' }, join(logs, 'web-poll.log'));
    watch = new BundleProcess('web', p3, { API_URLS: apiUrls, API_TIMEOUT_MS: '1000', CACHE_TTL_MS: '3600000', PUSH_CHECK_MS: '1000' }, join(logs, 'web-watch.log'));
    await Promise.all([push.start(), poll.start(), watch.start()]);
    for (const web of [push, watch]) await within(10_000, 'web to subscribe to both apis', async () => (await ready(web)).push.every((s) => s.state === 'open'), 50);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([push, poll, watch, a, b, writer].filter(Boolean).map((s) => s.stop()));
    await dbs?.topology.close();
    rmSync(logs, { recursive: true, force: true });
  });

  it('both apis frozen by SIGSTOP: every page still 200 and no slower than 50 ms above normal, marked stale within seconds with streams open; after SIGCONT a write made meanwhile shows', async () => {
    let normal = 0;
    for (let i = 0; i < 20; i++) {
      for (const web of [push, poll, watch]) {
        const res = await page(web);
        expect(res.status).toBe(200);
        expect(res.body).toContain('Site Reliability Engineer');
        normal = Math.max(normal, res.ms);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    a.signal('SIGSTOP');
    b.signal('SIGSTOP');
    try {
      // Past poll's TTL (watch's PUSH_CHECK_MS) and both of its 1 s time limits: its check of the
      // copy fails, in the background. watch's streams stay open all along (20 s before they idle out).
      const until = Date.now() + 4500;
      const staleSeen = new Set<BundleProcess>();
      while (Date.now() < until) {
        for (const web of [push, poll, watch]) {
          const res = await page(web);
          expect(res.status).toBe(200);
          expect(res.body).toContain('Site Reliability Engineer');
          expect(res.ms).toBeLessThan(normal + 50);
          if (res.stale !== null) staleSeen.add(web);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      expect([staleSeen.has(poll), staleSeen.has(watch)]).toEqual([true, true]);
      expect((await ready(poll)).stale).toBe(true);
      expect(await ready(watch)).toMatchObject({ stale: true, push: [{ state: 'open' }, { state: 'open' }] });
      await put('Written While Frozen');
    } finally {
      a.signal('SIGCONT');
      b.signal('SIGCONT');
    }
    for (const web of [push, poll, watch]) await within(10_000, `the write on ${web.url}`, async () => (await page(web)).body.includes('Written While Frozen'), 50);
    for (const web of [poll, watch]) expect((await page(web)).stale).toBeNull();
  });

  it('a write reaches the web holding an hour of TTL by push, within a second', async () => {
    await put('Pushed Engineer');
    const took = await within(1000, 'the pushed write on the page', async () => (await page(push)).body.includes('Pushed Engineer'));
    expect(took).toBeLessThan(1000);
  });

  it('an api restarting: its stream is opened again and pushes again', async () => {
    await a.stop();
    await within(5000, 'web to see the stream drop', async () => (await ready(push)).push.find((s) => s.url === a.url)?.state !== 'open', 50);
    await a.start();
    await within(15_000, 'web to subscribe again', async () => (await ready(push)).push.every((s) => s.state === 'open'), 50);
    // Only the restarted api's stream can tell of the next write.
    await b.stop();
    await put('After Restart');
    await within(2000, 'the write through the restarted api', async () => (await page(push)).body.includes('After Restart'));
  });
});
