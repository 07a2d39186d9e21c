import { loadEnv } from '@vita/runtime';
import Fastify from 'fastify';
import { helmetReference } from '../../test/helmet-reference';
import { WebEnv } from '../config/env';
import { captureHelmetHeaders, Header, helmetOptions, HSTS, installSecurityHeaders, sendsHsts } from './security-headers';

const sorted = (headers: Header[]) => [...headers].sort(([a], [b]) => a.localeCompare(b));

describe('security headers', () => {
  it('are captured once, exactly as @fastify/helmet sets them with web’s settings', async () => {
    for (const extra of [{}, { ASSET_BASE_URL: 'https://cdn.example.com/vita/' }]) {
      const env = loadEnv(WebEnv, { API_URLS: 'http://127.0.0.1:9', ...extra });
      const captured = await captureHelmetHeaders(helmetOptions(env));
      expect(sorted(captured)).toEqual(await helmetReference(env, 'https'));
      expect(captured.length).toBeGreaterThanOrEqual(10);
    }
    const cdn = await captureHelmetHeaders(helmetOptions(loadEnv(WebEnv, { API_URLS: 'http://127.0.0.1:9', ASSET_BASE_URL: 'https://cdn.example.com/vita/' })));
    expect(Object.fromEntries(cdn)['content-security-policy']).toContain("style-src 'self' https://cdn.example.com;");
  });

  it('refuses settings whose headers change from request to request (CSP nonces)', async () => {
    await expect(captureHelmetHeaders({ enableCSPNonces: true })).rejects.toThrow(/differ between requests/);
  });

  it('go on every response: a route, a 404, a failure', async () => {
    const app = Fastify();
    installSecurityHeaders(app, [
      ['x-one', '1'],
      ['x-two', 'two'],
    ]);
    app.get('/ok', async () => 'ok');
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    for (const [url, status] of [
      ['/ok', 200],
      ['/missing', 404],
      ['/boom', 500],
    ] as const) {
      const res = await app.inject(url);
      expect(res.statusCode).toBe(status);
      expect(res.headers).toMatchObject({ 'x-one': '1', 'x-two': 'two' });
    }
    await app.close();
  });

  it.each([
    [{ 'x-forwarded-proto': 'https', host: 'resume.example.org' }, true],
    [{ 'x-forwarded-proto': 'HTTPS', 'x-forwarded-host': 'resume.example.org', host: 'web:3000' }, true],
    [{ 'x-forwarded-proto': 'https, http', host: 'resume.example.org' }, true],
    [{ 'x-forwarded-proto': 'https', host: '127.0.0.1:8443' }, true],
    [{ 'x-forwarded-proto': 'https', host: '[::1]:8443' }, true],
    [{ host: 'resume.example.org' }, false],
    [{ 'x-forwarded-proto': 'http', host: 'resume.example.org' }, false],
    [{ 'x-forwarded-proto': 'http, https', host: 'resume.example.org' }, false],
    [{ 'x-forwarded-proto': 'https', host: 'localhost:8443' }, false],
    [{ 'x-forwarded-proto': 'https', host: 'LOCALHOST' }, false],
    [{ 'x-forwarded-proto': 'https', host: 'resume.localhost.:8443' }, false],
    [{ 'x-forwarded-proto': 'https', 'x-forwarded-host': 'localhost:8443', host: '127.0.0.1:3000' }, false],
  ])('Strict-Transport-Security for %p: %p', (headers, expected) => {
    expect(sendsHsts(headers)).toBe(expected);
  });

  it('sets HSTS only on a response to a request lb received over HTTPS, and never for localhost', async () => {
    const app = Fastify();
    installSecurityHeaders(app, [
      ['x-one', '1'],
      [HSTS, 'max-age=31536000; includeSubDomains'],
    ]);
    app.get('/ok', async () => 'ok');
    const res = (headers: Record<string, string>) => app.inject({ url: '/ok', headers });
    expect((await res({ 'x-forwarded-proto': 'https', host: 'resume.example.org' })).headers).toMatchObject({ 'x-one': '1', [HSTS]: 'max-age=31536000; includeSubDomains' });
    for (const headers of [{}, { 'x-forwarded-proto': 'http' }, { 'x-forwarded-proto': 'https', host: 'localhost:8443' }] as Record<string, string>[]) {
      const plain = await res(headers);
      expect(plain.headers['x-one']).toBe('1');
      expect(plain.headers[HSTS]).toBeUndefined();
    }
    await app.close();
  });
});
