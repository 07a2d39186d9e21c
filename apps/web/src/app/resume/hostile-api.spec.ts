import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadEnv } from '@vita/runtime';
import { createWeb } from '../bootstrap';
import { WebEnv } from '../config/env';
import { within } from '../../test/bundles';
import { FakeApi } from '../../test/fake-api';

/**
 * web against api instances that misbehave: announcing versions they do not serve, answering what
 * web cannot use, closing their streams at once, or freezing with their streams open.
 */
const doc = (name: string) => ({ basics: { name } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startWeb(apiUrls: string[], extra: Record<string, string>): Promise<NestFastifyApplication> {
  const app = await createWeb(loadEnv(WebEnv, { LOG_LEVEL: 'silent', API_URLS: apiUrls.join(','), ...extra }));
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

interface Detail {
  cachedDocument: boolean;
  version?: number;
  stale: boolean;
  announced?: number;
  push: { url: string; state: string; lastError?: string }[];
  instances: { url: string; available: boolean; lastError?: string }[];
}
const readiness = async (app: NestFastifyApplication) => ((await app.inject({ method: 'GET', url: '/health/ready' })).json().checks[0] as { detail: Detail }).detail;
const json = (app: NestFastifyApplication) => app.inject({ method: 'GET', url: '/resume.json' });

/** Starts what a test needs and stops all of it afterwards, whatever happened. */
class Scene {
  private readonly apis: FakeApi[] = [];
  private readonly apps: NestFastifyApplication[] = [];
  async api(push = true): Promise<FakeApi> {
    const api = await new FakeApi({ push }).start();
    this.apis.push(api);
    return api;
  }
  async web(apis: FakeApi[], extra: Record<string, string>): Promise<NestFastifyApplication> {
    const app = await startWeb(apis.map((a) => a.url), extra);
    this.apps.push(app);
    return app;
  }
  async stop(): Promise<void> {
    await Promise.all(this.apps.splice(0).map((a) => a.close()));
    await Promise.all(this.apis.splice(0).map((a) => a.stop()));
  }
}

describe('an announced version that no api serves', () => {
  const scene = new Scene();
  afterEach(() => scene.stop());

  it('brings one fetch, not one per request; it is forgotten when its instance announces lower or its stream reopens', async () => {
    const api = await scene.api();
    api.publish(doc('Served'));
    const app = await scene.web([api], { CACHE_TTL_MS: '3600000', PUSH_CHECK_MS: '60000', API_RETRY_AFTER_MS: '0' });
    await within(3000, 'the copy', async () => (await readiness(app)).version === api.version && (await readiness(app)).push[0].state === 'open');
    const asked = api.requests.length;

    api.announceRaw('{"version":9}');
    await within(1000, 'the fetch of the announced version', () => api.requests.length === asked + 1);
    expect((await readiness(app)).announced).toBe(9);
    for (let i = 0; i < 50; i++) {
      const res = await json(app);
      expect(res.statusCode).toBe(200);
      expect(res.headers.etag).toBe(`"v${api.version}"`);
      await sleep(10);
    }
    expect(api.requests.length).toBe(asked + 1);

    // The announcing instance says what it really serves: the announcement is gone.
    api.announce();
    await within(1000, 'the announcement to be forgotten', async () => (await readiness(app)).announced === undefined);
    // Announced again, then its stream drops and reopens: gone again.
    api.announceRaw('{"version":9}');
    await within(1000, 'the announcement', async () => (await readiness(app)).announced === 9);
    api.dropStreams();
    await within(5000, 'the stream to reopen', async () => api.openStreams === 1 && (await readiness(app)).push[0].state === 'open');
    expect((await readiness(app)).announced).toBeUndefined();
    for (let i = 0; i < 20; i++) expect((await json(app)).statusCode).toBe(200);
    expect(api.requests.length).toBeLessThanOrEqual(asked + 2);
  });

  it('a number no ETag can carry (2^53-1, 16 digits) is not taken as a version at all', async () => {
    const api = await scene.api();
    api.publish(doc('Served'));
    const app = await scene.web([api], { CACHE_TTL_MS: '3600000', PUSH_CHECK_MS: '60000' });
    await within(3000, 'the copy', async () => (await readiness(app)).version === api.version && (await readiness(app)).push[0].state === 'open');
    const asked = api.requests.length;
    api.announceRaw(`{"version":${Number.MAX_SAFE_INTEGER}}`);
    api.announceRaw('{"version":1000000000000000}');
    await sleep(200);
    for (let i = 0; i < 10; i++) expect((await json(app)).statusCode).toBe(200);
    expect(api.requests.length).toBe(asked);
    expect((await readiness(app)).announced).toBeUndefined();
  });
});

describe('an answer web cannot use is that instance failing: the next one is asked', () => {
  const scene = new Scene();
  afterEach(() => scene.stop());

  const cases: { name: string; spoil: (api: FakeApi) => void; error: RegExp }[] = [
    { name: 'a body that is not JSON', spoil: (api) => (api.rawBody = '{"basics":'), error: /^answered a body that is not JSON/ },
    { name: 'a 304 to an unconditional request', spoil: (api) => (api.alwaysNotModified = true), error: /^answered 304 to an unconditional request$/ },
  ];
  for (const { name, spoil, error } of cases) {
    it(`with nothing cached: ${name}`, async () => {
      const [bad, good] = [await scene.api(false), await scene.api(false)];
      bad.publish(doc('Bad'));
      good.publish(doc('Good'));
      spoil(bad);
      const app = await scene.web([bad, good], { API_PUSH: 'off', API_RETRY_AFTER_MS: '60000' });
      const res = await json(app);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(doc('Good'));
      const detail = await readiness(app);
      expect(detail.instances[0]).toMatchObject({ available: false, lastError: expect.stringMatching(error) });
      expect(detail.instances[1]).toEqual({ url: good.url, available: true });
      expect(detail.stale).toBe(false);
      // Its circuit is open: the next checks go to the other instance only.
      const asked = bad.requests.length;
      for (let i = 0; i < 3; i++) {
        await sleep(30);
        await app.inject({ method: 'GET', url: '/' });
      }
      expect(bad.requests.length).toBe(asked);
    });
  }

  it('with a versioned copy: an answer without a version ETag does not replace it, and the next instance gives the new version', async () => {
    const [a, b] = [await scene.api(false), await scene.api(false)];
    for (const api of [a, b]) api.publish(doc('Version Two'));
    const app = await scene.web([a, b], { API_PUSH: 'off', CACHE_TTL_MS: '0', API_RETRY_AFTER_MS: '60000' });
    expect((await json(app)).headers.etag).toBe('"v2"');
    a.etagStyle = 'none';
    for (const api of [a, b]) api.publish(doc('Version Three'));
    await within(2000, 'v3 from b', async () => (await json(app)).headers.etag === '"v3"');
    expect((await json(app)).json()).toEqual(doc('Version Three'));
    const detail = await readiness(app);
    expect(detail).toMatchObject({ version: 3, stale: false });
    expect(detail.instances[0]).toMatchObject({ available: false, lastError: 'answered without a "v<n>" ETag (none) while web holds v2' });
  });
});

describe('answers through a proxy that weakens or drops ETags', () => {
  const scene = new Scene();
  afterEach(() => scene.stop());

  it('a weak W/"v<n>" ETag gives the version; web asks with it and gets 304s', async () => {
    const api = await scene.api(false);
    api.etagStyle = 'weak';
    api.publish(doc('Weak One'));
    const app = await scene.web([api], { API_PUSH: 'off', CACHE_TTL_MS: '0' });
    const res = await json(app);
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe(`"v${api.version}"`);
    expect((await readiness(app)).version).toBe(api.version);
    await json(app);
    await within(1000, 'a conditional check', () => api.requests.at(-1)?.['if-none-match'] === `W/"v${api.version}"`);
    api.publish(doc('Weak Two'));
    await within(2000, 'the next version', async () => (await json(app)).body.includes('Weak Two'));
    expect((await readiness(app)).version).toBe(api.version);
  });

  it('without any version ETag the document is still served (unversioned) until a versioned one comes', async () => {
    const api = await scene.api(false);
    api.etagStyle = 'none';
    api.publish(doc('No Tag One'));
    const app = await scene.web([api], { API_PUSH: 'off', CACHE_TTL_MS: '0' });
    const first = await json(app);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual(doc('No Tag One'));
    expect(first.headers.etag).toMatch(/^"u-[A-Za-z0-9_-]{22}"$/);
    expect((await app.inject({ method: 'GET', url: '/resume.json', headers: { 'if-none-match': String(first.headers.etag) } })).statusCode).toBe(304);
    expect((await app.inject({ method: 'GET', url: '/' })).body).toContain('No Tag One');
    const detail = await readiness(app);
    expect(detail).toMatchObject({ cachedDocument: true, stale: false });
    expect(detail.version).toBeUndefined();
    // Asked unconditionally (there is nothing to match), a changed document replaces the unversioned copy.
    api.publish(doc('No Tag Two'));
    await within(2000, 'the changed document', async () => (await json(app)).body.includes('No Tag Two'));
    expect(api.requests.at(-1)?.['if-none-match']).toBeUndefined();
    api.etagStyle = 'strong';
    api.publish(doc('Tagged'));
    await within(2000, 'the versioned document', async () => (await json(app)).headers.etag === `"v${api.version}"`);
    expect((await readiness(app)).version).toBe(api.version);
  });
});

describe('with nothing cached, a request waits for one answer, not for every round', () => {
  const scene = new Scene();
  afterEach(() => scene.stop());

  it('an api that keeps announcing newer versions but never answers: the first request waits one time limit, and that api is asked once', async () => {
    const [liar, good] = [await scene.api(), await scene.api(false)];
    liar.hung = true;
    good.publish(doc('Good'));
    const app = await scene.web([liar, good], { API_TIMEOUT_MS: '300', API_RETRY_AFTER_MS: '5000' });
    let next = 100;
    const announcing = setInterval(() => liar.announceRaw(`{"version":${next++}}`), 30);
    try {
      await within(2000, 'the stream to open', () => liar.openStreams === 1);
      const started = Date.now();
      const res = await json(app);
      const took = Date.now() - started;
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual(doc('Good'));
      // One time limit for the announcing instance (maybe two, if the request came first), never one per round.
      expect(took).toBeLessThan(900);
      await sleep(1500);
      expect(liar.requests.length).toBeLessThanOrEqual(2);
    } finally {
      clearInterval(announcing);
    }
  });
});

describe('a stream that opens and closes at once', () => {
  const scene = new Scene();
  afterEach(() => scene.stop());

  it('is opened again at a growing interval, and its drops start a check at most once per wait', async () => {
    const api = await scene.api();
    api.closeStreamsAtOnce = true;
    api.streamRetryMs = 100;
    api.publish(doc('Flapping'));
    const app = await scene.web([api], { CACHE_TTL_MS: '3600000' });
    await within(2000, 'the first copy', async () => (await readiness(app)).cachedDocument);
    const [opened, asked] = [api.streamsOpened, api.requests.length];
    await sleep(2000);
    expect(api.streamsOpened - opened).toBeLessThanOrEqual(6);
    expect(api.requests.length - asked).toBeLessThanOrEqual(6);
  });
});

describe('while a stream is open, the copy is still checked now and then (PUSH_CHECK_MS)', () => {
  const scene = new Scene();
  afterEach(() => scene.stop());

  it('a new version the stream never announced shows within a check interval', async () => {
    const api = await scene.api();
    api.publish(doc('Announced'));
    const app = await scene.web([api], { CACHE_TTL_MS: '3600000', PUSH_CHECK_MS: '300' });
    await within(3000, 'the copy', async () => (await readiness(app)).version === api.version && (await readiness(app)).push[0].state === 'open');
    // The api moves on without a word on its stream (only keep-alives).
    api.version += 1;
    api.document = doc('Never Announced');
    const keepAlive = setInterval(() => api.writeStreams(': keep-alive\n\n'), 50);
    try {
      const took = await within(2000, 'the unannounced version', async () => (await json(app)).body.includes('Never Announced'), 20);
      expect(took).toBeLessThan(1500);
    } finally {
      clearInterval(keepAlive);
    }
  });

  it('every api frozen with its stream open: the copy is marked stale within a few seconds, not after the stream idles out', async () => {
    const [a, b] = [await scene.api(), await scene.api()];
    for (const api of [a, b]) api.publish(doc('Before Freeze'));
    const app = await scene.web([a, b], { CACHE_TTL_MS: '3600000', PUSH_CHECK_MS: '500', API_TIMEOUT_MS: '300' });
    await within(3000, 'the copy and both streams', async () => {
      const detail = await readiness(app);
      return detail.version === a.version && detail.push.every((s) => s.state === 'open');
    });
    a.hung = true;
    b.hung = true;
    const frozen = Date.now();
    const took = await within(4000, 'the stale mark', async () => (await app.inject({ method: 'GET', url: '/' })).headers['x-vita-stale'] !== undefined, 50);
    expect(Date.now() - frozen).toBeLessThan(2500);
    expect(took).toBeGreaterThanOrEqual(0);
    const stale = await app.inject({ method: 'GET', url: '/' });
    expect(stale.statusCode).toBe(200);
    expect(stale.body).toContain('Before Freeze');
    expect(stale.headers['cache-control']).toBe('no-cache');
    expect((await readiness(app)).push.every((s) => s.state === 'open')).toBe(true);
    a.release();
    b.release();
    await within(3000, 'fresh again', async () => (await app.inject({ method: 'GET', url: '/' })).headers['x-vita-stale'] === undefined, 50);
  });
});
