import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { JsonResume } from '@vita/contracts';
import { loadEnv } from '@vita/runtime';
import { sampleResume } from '@vita/testing';
import { createWeb, WebOptions } from '../bootstrap';
import { WebEnv } from '../config/env';
import { FakeApi } from '../../test/fake-api';
import { helmetReference } from '../../test/helmet-reference';
import { HSTS, type Header } from '../security/security-headers';

const webEnv = (apiUrls: string[], extra: Record<string, string> = {}) =>
  loadEnv(WebEnv, { LOG_LEVEL: 'silent', API_URLS: apiUrls.join(','), API_TIMEOUT_MS: '300', ...extra });

async function startWeb(apiUrls: string[], extra: Record<string, string> = {}, options: WebOptions = {}): Promise<NestFastifyApplication> {
  const app = await createWeb(webEnv(apiUrls, extra), options);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}

/** A response's values of the headers @fastify/helmet sends (`reference`), to compare with helmet's own. */
const securityHeaders = (res: { headers: Record<string, unknown> }, reference: Header[]) => reference.map(([name]) => [name, String(res.headers[name])] as const);

const text = (html: string): string =>
  html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)))
    .replace(/\s+/g, ' ');

describe('the résumé page', () => {
  const api = new FakeApi();
  let app: NestFastifyApplication;
  const sample = sampleResume();

  beforeAll(async () => {
    await api.start();
    api.publish(sample);
    app = await startWeb([api.url]);
  });
  afterAll(async () => {
    await app?.close();
    await api.stop();
  });
  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });

  it('shows every section of a complete résumé', async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    const page = text(res.body);
    const expected = [
      sample.basics!.name!,
      sample.basics!.label!,
      sample.basics!.summary!,
      sample.basics!.email!,
      'Salt Lake City',
      'GitHub: adaquill',
      ...sample.work!.flatMap((w) => [w.name!, w.position!, ...(w.highlights ?? [])]),
      'Mar 2021 – Present',
      '1 Jun 2016 – 28 Feb 2021',
      ...sample.volunteer!.flatMap((v) => [v.organization!, v.position!]),
      ...sample.education!.flatMap((e) => [e.institution!, e.area!, ...(e.courses ?? [])]),
      ...sample.awards!.flatMap((a) => [a.title!, a.awarder!]),
      ...sample.certificates!.flatMap((c) => [c.name!, c.issuer!]),
      ...sample.publications!.flatMap((p) => [p.name!, p.publisher!]),
      ...sample.skills!.flatMap((s) => [s.name!, s.level!, ...(s.keywords ?? [])]),
      'Vendors and Technologies',
      ...sample.languages!.flatMap((l) => [l.language!, l.fluency!]),
      ...sample.interests!.flatMap((i) => [i.name!, ...(i.keywords ?? [])]),
      ...sample.references!.flatMap((r) => [r.name!, r.reference!]),
      ...sample.projects!.flatMap((p) => [p.name!, p.description!, ...(p.roles ?? [])]),
    ];
    for (const t of expected) expect(page).toContain(t);
    for (const heading of ['Experience', 'Projects', 'Volunteering', 'Education', 'Skills', 'Awards', 'Certificates', 'Publications', 'Languages', 'Interests', 'References']) {
      expect(res.body).toContain(`>${heading}</h2>`);
    }
    expect(res.body).toMatch(/<header class="masthead" role="banner">/);
    expect(res.body).toMatch(/<main id="main">/);
    expect(res.body).toMatch(/<footer role="contentinfo">/);
  });

  it('carries schema.org Person JSON-LD and Open Graph tags', async () => {
    const res = await get('/');
    const ld = JSON.parse(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(res.body)![1]);
    expect(ld).toMatchObject({
      '@context': 'https://schema.org',
      '@type': 'Person',
      name: 'Ada Quill',
      jobTitle: sample.basics!.label,
      worksFor: { name: 'Northwind Hosting' },
      sameAs: sample.basics!.profiles!.map((p) => p.url),
    });
    expect(res.body).toContain('<meta property="og:type" content="profile">');
    expect(res.body).toContain('<meta property="og:title" content="Ada Quill — Site Reliability Engineer">');
  });

  it('leaves out empty sections', async () => {
    const before = api.document;
    api.publish({ basics: { name: 'Only Name' }, awards: [], work: [{ name: 'Solo Co' }] });
    const fresh = await startWeb([api.url]);
    try {
      const res = await fresh.inject({ method: 'GET', url: '/' });
      expect(res.body).toContain('Only Name');
      expect(res.body).toContain('>Experience</h2>');
      for (const heading of ['Awards', 'Education', 'Skills', 'Summary']) expect(res.body).not.toContain(`>${heading}</h2>`);
      expect(res.body).not.toContain('<img');
    } finally {
      await fresh.close();
      api.publish(before);
    }
  });

  it('escapes every text: a résumé containing markup renders as text', async () => {
    const before = api.document;
    const evil: JsonResume = {
      basics: { name: '<script>alert(1)</script>', summary: 'a </script><script>alert(2)</script> b', url: 'javascript:alert(3)', label: '"quoted" & <b>' },
      work: [{ name: '<img src=x onerror=alert(4)>', url: 'javascript:alert(5)', highlights: ['<iframe>'] }],
    };
    api.publish(evil);
    const fresh = await startWeb([api.url]);
    try {
      const res = await fresh.inject({ method: 'GET', url: '/' });
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toMatch(/<script>alert|<img src=x|<iframe>|<b>|href="javascript:/i);
      expect(res.body).toContain('&#60;script&#62;alert(1)&#60;/script&#62;');
      const ld = /<script type="application\/ld\+json">([\s\S]*?)<\/script>/.exec(res.body)![1];
      expect(JSON.parse(ld).description).toBe(evil.basics!.summary);
      expect(text(res.body)).toContain('javascript:alert(3)');
    } finally {
      await fresh.close();
      api.publish(before);
    }
  });

  it('answers If-None-Match with 304 and carries a short Cache-Control', async () => {
    // The tests before published other documents: the shared instance first serves what it holds and
    // fetches the newest in the background. The tag is compared once the newest is served.
    let first = await get('/');
    for (let i = 0; i < 100 && !String(first.headers.etag).startsWith(`"v${api.version}-`); i++) {
      await new Promise((r) => setTimeout(r, 20));
      first = await get('/');
    }
    expect(first.headers.etag).toMatch(/^"v\d+-[\w-]{22}"$/);
    expect(first.headers['cache-control']).toBe('public, max-age=2');
    expect((await get('/', { 'if-none-match': String(first.headers.etag) })).statusCode).toBe(304);
  });

  it('tells a client that already holds a newer version (seen on another web instance) to keep it', async () => {
    const page = await get('/');
    const json = await get('/resume.json');
    const version = Number(/^"v(\d+)/.exec(String(page.headers.etag))?.[1]);
    expect(json.headers.etag).toBe(`"v${version}"`);
    const newerPage = `"v${version + 1}-abc_DEF-123"`;
    for (const [url, tag] of [['/', newerPage], ['/resume.json', `"v${version + 1}"`], ['/', `"x", W/${newerPage}, "v${version - 1}-zz"`]] as const) {
      const res = await get(url, { 'if-none-match': tag });
      expect([url, tag, res.statusCode, res.body]).toEqual([url, tag, 304, '']);
      expect(res.headers.etag).toBe(tag.includes(',') ? newerPage : tag);
    }
    // An older version, or anything that is not a version tag, gets the current document.
    for (const tag of [`"v${version - 1}-abc"`, `"v${version + 1}<script>"`, `"v${'9'.repeat(16)}"`, `v${version + 1}`]) {
      const res = await get('/', { 'if-none-match': tag });
      expect([tag, res.statusCode, res.headers.etag]).toEqual([tag, 200, page.headers.etag]);
    }
  });

  it('sends security headers with a strict CSP', async () => {
    const res = await get('/');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBeDefined();
  });

  it('answers a fresh document from its prebuilt response: every header, 304 for a matching tag, HEAD, an access line each', async () => {
    // A long TTL: every request below is answered from the cache, without asking the api.
    const lines: Record<string, unknown>[] = [];
    const logDestination = { write: (text: string) => void lines.push(JSON.parse(text)) };
    const fresh = await startWeb([api.url], { CACHE_TTL_MS: '60000', LOG_LEVEL: 'info' }, { logDestination });
    try {
      const first = await fresh.inject({ method: 'GET', url: '/' });
      const asked = api.requests.length;
      const res = await fresh.inject({ method: 'GET', url: '/', headers: { 'x-request-id': 'fast-1' } });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(first.body);
      expect(res.headers).toMatchObject({
        'content-type': 'text/html; charset=utf-8',
        'content-length': String(Buffer.byteLength(res.body)),
        etag: first.headers.etag,
        'cache-control': 'public, max-age=2',
        'x-request-id': 'fast-1',
      });
      const etag = String(res.headers.etag);
      const reference = await helmetReference(webEnv([api.url]));
      for (const ifNoneMatch of [etag, `W/${etag}`, `"older", ${etag}`]) {
        const unchanged = await fresh.inject({ method: 'GET', url: '/', headers: { 'if-none-match': ifNoneMatch, 'x-request-id': 'fast-2' } });
        expect(unchanged.statusCode).toBe(304);
        expect(unchanged.body).toBe('');
        expect(unchanged.headers).toMatchObject({ etag, 'cache-control': 'public, max-age=2', 'x-request-id': 'fast-2' });
        expect(unchanged.headers['content-type']).toBeUndefined();
        expect(securityHeaders(unchanged, reference)).toEqual(reference);
      }
      expect((await fresh.inject({ method: 'GET', url: '/', headers: { 'if-none-match': '"older"' } })).statusCode).toBe(200);
      const head = await fresh.inject({ method: 'HEAD', url: '/' });
      expect(head.statusCode).toBe(200);
      expect(head.body).toBe('');
      expect(head.headers['content-length']).toBe(res.headers['content-length']);

      const json = await fresh.inject({ method: 'GET', url: '/resume.json' });
      expect(json.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'content-disposition': 'attachment; filename="resume.json"', etag: `"v${api.version}"` });
      const jsonUnchanged = await fresh.inject({ method: 'GET', url: '/resume.json', headers: { 'if-none-match': String(json.headers.etag) } });
      expect(jsonUnchanged.statusCode).toBe(304);
      expect(jsonUnchanged.headers['content-disposition']).toBe('attachment; filename="resume.json"');
      expect(api.requests.length).toBe(asked);
      // By default every request has its access line, with its id.
      const access = lines.filter((l) => l['msg'] === 'request');
      expect(access).toHaveLength(9);
      expect(access[1]).toMatchObject({ requestId: 'fast-1', method: 'GET', url: '/', status: 200 });
      expect(access[2]).toMatchObject({ requestId: 'fast-2', status: 304 });
    } finally {
      await fresh.close();
    }
  });

  it('sends exactly @fastify/helmet’s headers on every response: page, 304, document, asset, health, 404; HSTS over HTTPS only', async () => {
    const env = webEnv([api.url]);
    const [overHttps, overHttp] = [await helmetReference(env, 'https'), await helmetReference(env)];
    expect(overHttps.map(([name]) => name)).toEqual(expect.arrayContaining([HSTS]));
    expect(overHttp).toEqual(overHttps.filter(([name]) => name !== HSTS));
    const page = await get('/');
    const css = /href="(\/assets\/site\.[0-9a-f]{10}\.css)"/.exec(page.body)![1];
    for (const [url, headers, status] of [
      ['/', {}, 200],
      ['/', { 'if-none-match': String(page.headers.etag) }, 304],
      ['/resume.json', {}, 200],
      [css, {}, 200],
      ['/health/live', {}, 200],
      ['/health/ready', {}, 200],
      ['/nope', {}, 404],
      ['/assets/nope.css', {}, 404],
    ] as const) {
      // Through lb's HTTPS listener (X-Forwarded-Proto: https) every header; over plain HTTP all but HSTS.
      const secure = await get(url, { ...headers, 'x-forwarded-proto': 'https', 'x-forwarded-host': 'resume.example.org' });
      expect([url, secure.statusCode]).toEqual([url, status]);
      expect(securityHeaders(secure, overHttps)).toEqual(overHttps);
      for (const plain of [await get(url, headers), await get(url, { ...headers, 'x-forwarded-proto': 'http' })]) {
        expect([url, plain.statusCode]).toEqual([url, status]);
        expect(securityHeaders(plain, overHttp)).toEqual(overHttp);
        expect(plain.headers[HSTS]).toBeUndefined();
      }
    }
  });

  it('serves content-hashed assets as immutable, and the portrait asset', async () => {
    const page = (await get('/')).body;
    const css = /href="(\/assets\/site\.[0-9a-f]{10}\.css)"/.exec(page)![1];
    const res = await get(css);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(res.body).toContain('@media print');
    expect((await get('/assets/site.0000000000.css')).statusCode).toBe(404);
  });

  it('serves /resume.json as a download of the document', async () => {
    const res = await get('/resume.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="resume.json"');
    expect(res.json()).toEqual(sample);
  });

  it('sends the page, the document and the CSS compressed (Brotli or gzip, by Accept-Encoding), each coding with its own ETag', async () => {
    const plain = await get('/');
    const css = /href="(\/assets\/site\.[0-9a-f]{10}\.css)"/.exec(plain.body)![1];
    for (const url of ['/', '/resume.json', css]) {
      const identity = await get(url);
      expect([url, identity.headers['content-encoding'], identity.headers.vary]).toEqual([url, undefined, 'accept-encoding']);
      for (const [accept, coding, decode] of [
        ['gzip, deflate, br, zstd', 'br', brotliDecompressSync],
        ['gzip, deflate', 'gzip', gunzipSync],
        ['br;q=0.5, gzip', 'gzip', gunzipSync],
      ] as const) {
        const res = await get(url, { 'accept-encoding': accept });
        expect([url, accept, res.statusCode, res.headers['content-encoding'], res.headers.vary]).toEqual([url, accept, 200, coding, 'accept-encoding']);
        expect(res.headers['content-length']).toBe(String(res.rawPayload.length));
        expect(res.rawPayload.length).toBeLessThan(identity.rawPayload.length * 0.6);
        expect(decode(res.rawPayload).equals(identity.rawPayload)).toBe(true);
        if (url !== css) expect(res.headers.etag).toBe(String(identity.headers.etag).replace(/"$/, coding === 'br' ? '-br"' : '-gz"'));
      }
      expect((await get(url, { 'accept-encoding': 'identity' })).headers['content-encoding']).toBeUndefined();
    }
    // A client holding the page in any coding holds this version: 304, with the tag of the coding it asks for now.
    const br = await get('/', { 'accept-encoding': 'br' });
    for (const [held, accept, expected] of [[plain.headers.etag, 'br', br.headers.etag], [br.headers.etag, 'identity', plain.headers.etag]] as const) {
      const res = await get('/', { 'if-none-match': String(held), 'accept-encoding': accept });
      expect([res.statusCode, res.headers.etag, res.headers.vary, res.headers['content-encoding']]).toEqual([304, expected, 'accept-encoding', undefined]);
    }
    expect(JSON.parse(brotliDecompressSync((await get('/resume.json', { 'accept-encoding': 'br' })).rawPayload).toString())).toEqual(sample);
  });

  it('serves a document with extra top-level keys as the api gave it, byte for byte, and renders its page', async () => {
    const other = await new FakeApi().start();
    const doc = { ...sample, 'x-vita': { theme: 'teal', sizes: [1, 2.5, null] }, hobbies: ['sailing'], 'basics.profiles': 'a top-level key', '': '', constructor: 'x' };
    other.publish(doc);
    const fresh = await startWeb([other.url]);
    try {
      const json = await fresh.inject({ method: 'GET', url: '/resume.json' });
      expect(json.statusCode).toBe(200);
      expect(json.body).toBe(JSON.stringify(doc));
      const page = await fresh.inject({ method: 'GET', url: '/' });
      expect(page.statusCode).toBe(200);
      expect(text(page.body)).toContain(sample.basics!.name!);
      expect(page.body).not.toContain('teal');
    } finally {
      await fresh.close();
      await other.stop();
    }
  });

  it('answers an unknown page with a friendly 404 page', async () => {
    const res = await get('/nope/../../etc/passwd');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toContain('Page not found');
    expect(res.body).toContain('href="/"');
    expect(res.body).not.toMatch(/Error|at \w+ \(/);
  });

  it('passes the request id on to the api', async () => {
    const fresh = await startWeb([api.url], { CACHE_TTL_MS: '0' });
    try {
      await fresh.inject({ method: 'GET', url: '/', headers: { 'x-request-id': 'page-req-7' } });
      expect(api.requests.at(-1)?.['x-request-id']).toBe('page-req-7');
    } finally {
      await fresh.close();
    }
  });

  it('with ACCESS_LOG_SAMPLE=0 writes access lines for 4xx and 5xx only', async () => {
    const lines: Record<string, unknown>[] = [];
    const logDestination = { write: (text: string) => void lines.push(JSON.parse(text)) };
    const sampled = await startWeb([api.url], { LOG_LEVEL: 'info', ACCESS_LOG_SAMPLE: '0' }, { logDestination });
    try {
      for (const url of ['/', '/', '/resume.json', '/nope']) await sampled.inject({ method: 'GET', url, headers: { 'x-request-id': 'sampled-1' } });
    } finally {
      await sampled.close();
    }
    expect(lines.filter((l) => l['msg'] === 'request').map((l) => [l['url'], l['status'], l['requestId']])).toEqual([['/nope', 404, 'sampled-1']]);
  });

  it('uses ASSET_BASE_URL for assets and allows it in the CSP', async () => {
    const fresh = await startWeb([api.url], { ASSET_BASE_URL: 'https://cdn.example.com/vita/' });
    try {
      const res = await fresh.inject({ method: 'GET', url: '/' });
      expect(res.body).toMatch(/href="https:\/\/cdn\.example\.com\/vita\/site\.[0-9a-f]{10}\.css"/);
      expect(String(res.headers['content-security-policy'])).toContain("style-src 'self' https://cdn.example.com");
    } finally {
      await fresh.close();
    }
  });
});

describe('web without a working api', () => {
  it('cold start with no api: a clear 503 page, and not ready', async () => {
    const dead = new FakeApi();
    await dead.start();
    const url = dead.url;
    await dead.stop();
    const app = await startWeb([url]);
    try {
      const res = await app.inject({ method: 'GET', url: '/' });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body).toContain('Back in a moment');
      expect(res.body).not.toContain(url);
      const reference = await helmetReference(webEnv([url]));
      expect(securityHeaders(res, reference)).toEqual(reference);
      const json = await app.inject({ method: 'GET', url: '/resume.json' });
      expect(json.statusCode).toBe(503);
      expect(json.json()).toEqual({ statusCode: 503, message: expect.stringContaining('cannot be shown right now') });
      expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503);
      expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('serves the last good copy with x-vita-stale when every api fails, and fresh again once one answers', async () => {
    const api = await new FakeApi().start();
    api.publish({ basics: { name: 'Stale Sam' } });
    const app = await startWeb([api.url], { CACHE_TTL_MS: '0', API_RETRY_AFTER_MS: '0' });
    try {
      expect((await app.inject({ method: 'GET', url: '/' })).headers['x-vita-stale']).toBeUndefined();
      await api.stop();
      // The first request after the api went away gets the copy at once and starts the check that finds it gone.
      expect((await app.inject({ method: 'GET', url: '/' })).statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 200));
      const stale = await app.inject({ method: 'GET', url: '/' });
      expect(stale.statusCode).toBe(200);
      expect(stale.headers['x-vita-stale']).toMatch(/^\d+$/);
      expect(stale.headers['cache-control']).toBe('no-cache');
      expect(stale.body).toContain('Stale Sam');
      const staleUnchanged = await app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': String(stale.headers.etag) } });
      expect(staleUnchanged.statusCode).toBe(304);
      expect(staleUnchanged.headers).toMatchObject({ 'x-vita-stale': expect.stringMatching(/^\d+$/), 'cache-control': 'no-cache' });
      expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('a JSON Resume theme (RESUME_THEME)', () => {
  it('renders the page once per version with the theme: its own CSP, the same ETags, compression and stale copy as the built-in page', async () => {
    const api = await new FakeApi().start();
    const sample = sampleResume();
    api.publish(sample);
    const app = await startWeb([api.url], { RESUME_THEME: 'flat', CACHE_TTL_MS: '0', API_RETRY_AFTER_MS: '0', PUBLIC_URL: 'https://resume.example.org/' });
    try {
      const page = await app.inject({ method: 'GET', url: '/' });
      expect(page.statusCode).toBe(200);
      expect(text(page.body)).toContain(sample.basics!.name!);
      expect(page.body).not.toContain('class="masthead"');
      expect(page.body).toContain('<link rel="canonical" href="https://resume.example.org/">');
      const csp = String(page.headers['content-security-policy']);
      expect(csp).toMatch(/^default-src 'none'; style-src 'self' https:\/\/cdnjs\.cloudflare\.com https:\/\/fonts\.googleapis\.com 'sha256-[\w+/=]{44}'/);
      expect(csp).not.toContain('unsafe-inline');
      // The other security headers stay helmet's.
      const reference = (await helmetReference(webEnv([api.url]))).filter(([name]) => name !== 'content-security-policy');
      expect(securityHeaders(page, reference)).toEqual(reference);
      expect(page.headers.etag).toMatch(new RegExp(`^"v${api.version}-[\\w-]{22}"$`));
      expect((await app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': String(page.headers.etag) } })).statusCode).toBe(304);
      const br = await app.inject({ method: 'GET', url: '/', headers: { 'accept-encoding': 'br' } });
      expect(brotliDecompressSync(br.rawPayload).toString()).toBe(page.body);
      expect(br.headers['content-security-policy']).toBe(csp);
      expect((await app.inject({ method: 'GET', url: '/resume.json' })).json()).toEqual(sample);
      await api.stop();
      await app.inject({ method: 'GET', url: '/' });
      let stale = await app.inject({ method: 'GET', url: '/' });
      for (let i = 0; i < 100 && stale.headers['x-vita-stale'] === undefined; i++) {
        await new Promise((r) => setTimeout(r, 20));
        stale = await app.inject({ method: 'GET', url: '/' });
      }
      expect([stale.statusCode, stale.headers['x-vita-stale'] !== undefined, stale.body, stale.headers['content-security-policy']]).toEqual([200, true, page.body, csp]);
    } finally {
      await app.close();
      await api.stop();
    }
  });
});

describe('robots.txt and the icon', () => {
  const api = new FakeApi();
  beforeAll(async () => {
    await api.start();
    api.publish(sampleResume());
  });
  afterAll(() => api.stop());

  it.each([
    [{}, 'User-agent: *\nAllow: /\n'],
    [{ ROBOTS: 'disallow' }, 'User-agent: *\nDisallow: /\n'],
  ])('ROBOTS %j: /robots.txt as text', async (env, body) => {
    const app = await startWeb([api.url], env);
    try {
      const res = await app.inject({ method: 'GET', url: '/robots.txt' });
      expect([res.statusCode, res.headers['content-type'], res.body]).toEqual([200, 'text/plain; charset=utf-8', body]);
    } finally {
      await app.close();
    }
  });

  it('links an icon from the page and serves it at /favicon.ico too; a canonical link only with PUBLIC_URL', async () => {
    for (const [env, canonical] of [[{}, undefined], [{ PUBLIC_URL: 'https://resume.example.org/' }, 'https://resume.example.org/']] as const) {
      const app = await startWeb([api.url], env);
      try {
        const page = (await app.inject({ method: 'GET', url: '/' })).body;
        const icon = /<link rel="icon" href="(\/assets\/icon\.[0-9a-f]{10}\.svg)" type="image\/svg\+xml">/.exec(page)?.[1];
        expect(icon).toBeDefined();
        const [linked, legacy] = [await app.inject({ method: 'GET', url: icon! }), await app.inject({ method: 'GET', url: '/favicon.ico' })];
        expect([linked.statusCode, legacy.statusCode, legacy.headers['content-type']]).toEqual([200, 200, 'image/svg+xml']);
        expect(legacy.body).toBe(linked.body);
        expect(legacy.body).toMatch(/^<svg /);
        expect(/<link rel="canonical" href="([^"]+)">/.exec(page)?.[1]).toBe(canonical);
      } finally {
        await app.close();
      }
    }
  });

  it('refuses a PUBLIC_URL or ROBOTS that is not one, naming it', () => {
    expect(() => webEnv([api.url], { PUBLIC_URL: 'resume.example.org' })).toThrow(/PUBLIC_URL must be an http\(s\) URL/);
    expect(() => webEnv([api.url], { ROBOTS: 'maybe' })).toThrow(/ROBOTS must be allow or disallow/);
  });
});
