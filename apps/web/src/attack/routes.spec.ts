import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadEnv } from '@vita/runtime';
import { sampleResume } from '@vita/testing';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { createWeb } from '../app/bootstrap';
import { WebEnv } from '../app/config/env';
import { FakeApi } from '../test/fake-api';

/** web in-process, pages rendered with a CommonJS theme from npm (found from the working directory). */
describe('attack: theme pages, codings, 304s and site files (in-process)', () => {
  const api = new FakeApi();
  let app: NestFastifyApplication;
  const sample = sampleResume();

  beforeAll(async () => {
    await api.start();
    api.publish(sample);
    app = await createWeb(loadEnv(WebEnv, { LOG_LEVEL: 'silent', API_URLS: api.url, API_TIMEOUT_MS: '300', RESUME_THEME: 'flat', PUBLIC_URL: 'https://resume.example.org/' }));
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  }, 30_000);
  afterAll(async () => {
    await app?.close();
    await api.stop();
  });
  const get = (url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') => app.inject({ method, url, headers });

  it('a 304 carries the theme page’s own CSP, not helmet’s (a browser updates its cached headers from a 304)', async () => {
    const ok = await get('/', { 'accept-encoding': 'br' });
    expect(ok.statusCode).toBe(200);
    const csp = ok.headers['content-security-policy'];
    expect(csp).toContain("'sha256-");
    const revalidated = await get('/', { 'accept-encoding': 'br', 'if-none-match': String(ok.headers.etag) });
    expect(revalidated.statusCode).toBe(304);
    expect(revalidated.headers.vary).toBe('accept-encoding');
    expect(revalidated.headers['content-security-policy']).toBe(csp);
  });

  it('the 304 told to a client holding a newer version carries no CSP: the client keeps that page’s own, not this version’s (or helmet’s)', async () => {
    await get('/');
    const res = await get('/', { 'if-none-match': `"v${api.version + 5}-abc"` });
    expect(res.statusCode).toBe(304);
    expect(res.headers['content-security-policy']).toBeUndefined();
  });

  const many = `${Array.from({ length: 2000 }, (_, i) => `x-${i};q=0.5`).join(', ')}, gzip;q=0.7`;
  it.each([
    ['br', 'br', 'br'],
    ['gzip', 'gzip', 'gzip'],
    ['gzip;q=0.9, br;q=0.5', 'gzip', 'gzip;q=0.9, br;q=0.5'],
    ['BR;Q=1, GZIP', 'br', 'BR;Q=1, GZIP'],
    ['*', 'br', '*'],
    ['br;q=0, gzip;q=0', undefined, 'br;q=0, gzip;q=0'],
    ['identity', undefined, 'identity'],
    ['2000 unknown codings then gzip;q=0.7', 'gzip', many],
  ])('Accept-Encoding %s → %s, with a matching Content-Length and ETag per coding', async (_label, coding, header) => {
    const res = await get('/', { 'accept-encoding': header });
    expect(res.headers['content-encoding']).toBe(coding);
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length);
    const text = coding === 'br' ? brotliDecompressSync(res.rawPayload).toString() : coding === 'gzip' ? gunzipSync(res.rawPayload).toString() : res.body;
    expect(text).toContain(sample.basics!.name);
    expect(String(res.headers.etag)).toMatch(coding === 'br' ? /-br"$/ : coding === 'gzip' ? /-gz"$/ : /^"v\d+-[\w-]{22}"$/);
  });

  it('HEAD with Brotli: the Content-Length and CSP of the GET, no body', async () => {
    const gotten = await get('/', { 'accept-encoding': 'br' });
    const head = await get('/', { 'accept-encoding': 'br' }, 'HEAD');
    expect([head.statusCode, head.headers['content-length'], head.headers['content-encoding'], head.headers['content-security-policy'], head.rawPayload.length]).toEqual([
      200, gotten.headers['content-length'], 'br', gotten.headers['content-security-policy'], 0,
    ]);
  });

  it.each(['/robots.txt?x=1', '/favicon.ico?v=2'])('%s answers 200 whatever the query', async (url) => {
    expect((await get(url)).statusCode).toBe(200);
  });

  it('held: a 304 across codings says Vary, and an older version’s tag of another coding gets the full page', async () => {
    const gz = await get('/', { 'accept-encoding': 'gzip' });
    const br = await get('/', { 'accept-encoding': 'br', 'if-none-match': String(gz.headers.etag) });
    expect([br.statusCode, br.headers.vary, br.headers.etag]).toEqual([304, 'accept-encoding', String(gz.headers.etag).replace(/-gz"$/, '-br"')]);
    const older = String(gz.headers.etag).replace(/^"v(\d+)-/, (_m, v: string) => `"v${Number(v) - 1}-`);
    expect((await get('/', { 'accept-encoding': 'br', 'if-none-match': older })).statusCode).toBe(200);
  });

  it('If-None-Match: * is answered 304 when the page exists (RFC 9110 §13.1.2)', async () => {
    expect((await get('/', { 'if-none-match': '*' })).statusCode).toBe(304);
  });

  it('held: a theme page’s ETag is the same in a second web started on the same document', async () => {
    const other = await createWeb(loadEnv(WebEnv, { LOG_LEVEL: 'silent', API_URLS: api.url, API_TIMEOUT_MS: '300', RESUME_THEME: 'flat', PUBLIC_URL: 'https://resume.example.org/' }));
    try {
      await other.init();
      await other.getHttpAdapter().getInstance().ready();
      const theirs = await other.inject({ method: 'GET', url: '/', headers: { 'accept-encoding': 'br' } });
      expect(theirs.headers.etag).toBe((await get('/', { 'accept-encoding': 'br' })).headers.etag);
    } finally {
      await other.close();
    }
  });

  it('the themed page carries the canonical link once', async () => {
    const body = (await get('/')).body;
    expect(body.match(/rel="canonical"/g)).toHaveLength(1);
  });
});

describe('attack: the stale copy of a theme page (in-process)', () => {
  it('held: with every api gone, the stale copy keeps the theme page’s CSP', async () => {
    const api = new FakeApi({ push: false });
    await api.start();
    api.publish(sampleResume());
    const app = await createWeb(loadEnv(WebEnv, { LOG_LEVEL: 'silent', API_URLS: api.url, API_TIMEOUT_MS: '100', API_PUSH: 'off', CACHE_TTL_MS: '0', API_RETRY_AFTER_MS: '0', RESUME_THEME: 'flat' }));
    try {
      await app.init();
      await app.getHttpAdapter().getInstance().ready();
      const fresh = await app.inject({ method: 'GET', url: '/' });
      await api.stop();
      let stale = fresh;
      for (let i = 0; i < 100 && stale.headers['x-vita-stale'] === undefined; i++) {
        await new Promise((r) => setTimeout(r, 20));
        stale = await app.inject({ method: 'GET', url: '/' });
      }
      expect([stale.statusCode, stale.headers['x-vita-stale'] !== undefined, stale.headers['content-security-policy']]).toEqual([200, true, fresh.headers['content-security-policy']]);
    } finally {
      await app.close();
    }
  });
});
