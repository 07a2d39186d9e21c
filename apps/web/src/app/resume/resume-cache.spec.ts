import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadEnv } from '@vita/runtime';
import { createWeb } from '../bootstrap';
import { WebEnv } from '../config/env';
import { within } from '../../test/bundles';
import { FakeApi } from '../../test/fake-api';

const doc = (name: string) => ({ basics: { name } });

async function startWeb(apiUrls: string[], extra: Record<string, string>): Promise<NestFastifyApplication> {
  const app = await createWeb(loadEnv(WebEnv, { LOG_LEVEL: 'silent', API_URLS: apiUrls.join(','), ...extra }));
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

interface ApiCheck {
  detail: { version?: number; stale: boolean; announced?: number; push: { url: string; state: string; lastError?: string }[]; instances: { url: string; available: boolean; lastError?: string }[] };
}
const readiness = async (app: NestFastifyApplication) => (await app.inject({ method: 'GET', url: '/health/ready' })).json().checks[0] as ApiCheck;

describe('web with a copy never waits for an api (stale-while-revalidate)', () => {
  const api = new FakeApi({ push: false });
  let app: NestFastifyApplication;
  beforeAll(async () => {
    await api.start();
    api.publish(doc('Before Hang'));
    app = await startWeb([api.url], { API_PUSH: 'off', CACHE_TTL_MS: '0', API_TIMEOUT_MS: '1500', API_RETRY_AFTER_MS: '0' });
  });
  afterAll(async () => {
    await app?.close();
    await api.stop();
  });

  it('a hung api: every page at once from the copy, one refresh at a time, a timeout counted as a failure, then marked stale; fresh when it answers again', async () => {
    expect((await app.inject({ method: 'GET', url: '/' })).body).toContain('Before Hang');
    api.hung = true;
    api.publish(doc('After Hang'));
    const asked = api.requests.length;
    const started = Date.now();
    for (let i = 0; i < 20; i++) {
      const t = Date.now();
      const res = await app.inject({ method: 'GET', url: i % 2 ? '/' : '/resume.json' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('Before Hang');
      expect(res.headers['x-vita-stale']).toBeUndefined();
      expect(Date.now() - t).toBeLessThan(200);
      if (i === 0) await within(1000, 'the background refresh to reach the api', () => api.requests.length > asked);
    }
    expect(Date.now() - started).toBeLessThan(1500);
    // Twenty requests past the TTL, one refresh in flight.
    expect(api.requests.length - asked).toBe(1);

    await within(3000, 'the refresh to time out', async () => (await readiness(app)).detail.stale);
    const check = await readiness(app);
    expect(check.detail.instances[0]).toMatchObject({ lastError: 'no answer within 1500 ms' });
    const stale = await app.inject({ method: 'GET', url: '/' });
    expect(stale.statusCode).toBe(200);
    expect(stale.body).toContain('Before Hang');
    expect(stale.headers['x-vita-stale']).toMatch(/^\d+$/);
    expect(stale.headers['cache-control']).toBe('no-cache');

    api.release();
    await within(3000, 'the new version to show', async () => (await app.inject({ method: 'GET', url: '/' })).body.includes('After Hang'));
    const fresh = await app.inject({ method: 'GET', url: '/' });
    expect(fresh.headers['x-vita-stale']).toBeUndefined();
    expect((await readiness(app)).detail).toMatchObject({ version: api.version, stale: false });
  });

  it('without a copy (cold start) a request waits for the api, bounded by the time limit', async () => {
    const hung = await new FakeApi({ push: false }).start();
    hung.hung = true;
    const cold = await startWeb([hung.url], { API_PUSH: 'off', API_TIMEOUT_MS: '300' });
    try {
      const started = Date.now();
      const res = await cold.inject({ method: 'GET', url: '/resume.json' });
      expect(res.statusCode).toBe(503);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await cold.close();
      await hung.stop();
    }
  });
});

describe('web keeps the newest version it has seen', () => {
  it('an api behind another is ignored, not followed: the version never goes back', async () => {
    const ahead = await new FakeApi({ push: false }).start();
    const behind = await new FakeApi({ push: false }).start();
    ahead.document = doc('Version Seven');
    ahead.version = 7;
    behind.document = doc('Version Five');
    behind.version = 5;
    const app = await startWeb([ahead.url, behind.url], { API_PUSH: 'off', CACHE_TTL_MS: '0', API_RETRY_AFTER_MS: '60000' });
    try {
      expect((await app.inject({ method: 'GET', url: '/resume.json' })).headers.etag).toBe('"v7"');
      await ahead.stop();
      await within(3000, 'the behind api to be asked', async () => (await app.inject({ method: 'GET', url: '/resume.json' })).statusCode === 200 && behind.requests.length > 0);
      for (let i = 0; i < 10; i++) {
        const res = await app.inject({ method: 'GET', url: '/resume.json' });
        expect(res.headers.etag).toBe('"v7"');
        expect(res.json()).toEqual(doc('Version Seven'));
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(behind.requests.length).toBeGreaterThan(1);
      expect((await readiness(app)).detail).toMatchObject({ version: 7, stale: false });

      behind.publish(doc('Version Six'));
      await new Promise((r) => setTimeout(r, 100));
      expect((await app.inject({ method: 'GET', url: '/resume.json' })).headers.etag).toBe('"v7"');
      behind.version = 7;
      behind.publish(doc('Version Eight'));
      await within(3000, 'v8 from the other api', async () => (await app.inject({ method: 'GET', url: '/resume.json' })).headers.etag === '"v8"');
    } finally {
      await app.close();
      await behind.stop();
      await ahead.stop();
    }
  });
});

describe('the push channel', () => {
  const a = new FakeApi();
  const b = new FakeApi();
  let app: NestFastifyApplication;
  const page = async () => (await app.inject({ method: 'GET', url: '/' })).body;

  beforeAll(async () => {
    await Promise.all([a.start(), b.start()]);
    a.publish(doc('Push One'));
    b.publish(doc('Push One'));
    // An hour of TTL and of backstop checks: anything new below comes by push.
    app = await startWeb([a.url, b.url], { CACHE_TTL_MS: '3600000', PUSH_CHECK_MS: '3600000' });
    await within(3000, 'both streams to open', async () => (await readiness(app)).detail.push.every((s) => s.state === 'open'));
  });
  afterAll(async () => {
    await app?.close();
    await Promise.all([a.stop(), b.stop()]);
  });

  it('a version announced by any instance is fetched at once from that instance, without waiting for the TTL', async () => {
    expect(await page()).toContain('Push One');
    const [askedA, askedB] = [a.requests.length, b.requests.length];
    b.publish(doc('Push Two'));
    const took = await within(1000, 'the pushed version to show', async () => (await page()).includes('Push Two'));
    expect(took).toBeLessThan(1000);
    expect(b.requests.length - askedB).toBe(1);
    expect(b.requests.at(-1)?.['if-none-match']).toBe(`"v${b.version - 1}"`);
    expect(a.requests.length).toBe(askedA);
    // The other instance catching up announces what web holds already: nothing is fetched.
    a.publish(doc('Push Two'));
    await new Promise((r) => setTimeout(r, 100));
    expect(a.requests.length).toBe(askedA);
  });

  it('announcements arriving together are coalesced into one fetch at a time', async () => {
    const asked = a.requests.length;
    for (let i = 3; i <= 20; i++) a.publish(doc(`Push ${i}`));
    await within(2000, 'the last version to show', async () => (await page()).includes('Push 20'));
    expect(a.requests.length - asked).toBeLessThanOrEqual(3);
    expect((await readiness(app)).detail.version).toBe(a.version);
  });

  it('a stream that drops is opened again, and pushes again', async () => {
    const opened = a.streamsOpened + b.streamsOpened;
    a.dropStreams();
    b.dropStreams();
    await within(2000, 'web to notice', async () => (await readiness(app)).detail.push.every((s) => s.state !== 'open'));
    await within(5000, 'both streams to reopen', async () => a.openStreams === 1 && b.openStreams === 1);
    expect(a.streamsOpened + b.streamsOpened).toBe(opened + 2);
    await within(1000, 'readiness to say open', async () => (await readiness(app)).detail.push.every((s) => s.state === 'open'));
    a.publish(doc('After Reconnect'));
    await within(1000, 'the pushed version to show', async () => (await page()).includes('After Reconnect'));
  });

  it('a stream that opens announces the current version: what was missed while it was down is fetched', async () => {
    b.version = a.version;
    b.document = a.document;
    const port = Number(new URL(b.url).port);
    await b.stop();
    await within(2000, 'web to notice', async () => (await readiness(app)).detail.push.some((s) => s.url === b.url && s.state !== 'open'));
    b.version += 5;
    b.document = doc('Missed While Down');
    await b.start(port);
    await within(15_000, 'the missed version to show', async () => (await page()).includes('Missed While Down'));
  });
});

describe('polling stays the fallback while no stream is open', () => {
  it('an api without the stream: readiness names why, and CACHE_TTL_MS polling still brings new versions', async () => {
    const api = await new FakeApi({ push: false }).start();
    api.publish(doc('Poll One'));
    const app = await startWeb([api.url], { CACHE_TTL_MS: '200' });
    try {
      expect((await app.inject({ method: 'GET', url: '/' })).body).toContain('Poll One');
      await within(2000, 'the stream attempt to fail', async () => (await readiness(app)).detail.push[0].state === 'waiting');
      expect((await readiness(app)).detail.push[0]).toMatchObject({ url: api.url, lastError: 'answered 404' });
      api.publish(doc('Poll Two'));
      // The first request past the TTL starts the check and gets the copy; a later one the new version.
      const took = await within(2000, 'the polled version to show', async () => (await app.inject({ method: 'GET', url: '/' })).body.includes('Poll Two'));
      expect(took).toBeGreaterThan(0);
    } finally {
      await app.close();
      await api.stop();
    }
  });

  it('with API_PUSH=off no stream is opened at all', async () => {
    const api = await new FakeApi().start();
    api.publish(doc('No Push'));
    const app = await startWeb([api.url], { API_PUSH: 'off' });
    try {
      expect((await app.inject({ method: 'GET', url: '/' })).body).toContain('No Push');
      await new Promise((r) => setTimeout(r, 200));
      expect(api.streamsOpened).toBe(0);
      expect((await readiness(app)).detail.push).toEqual([{ url: api.url, state: 'off' }]);
    } finally {
      await app.close();
      await api.stop();
    }
  });
});
