import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadEnv } from '@vita/runtime';
import { RunningStack, startStack } from '@vita/stack';
import { freePort, sampleResume, workspaceRoot } from '@vita/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWeb } from '../bootstrap';
import { WebEnv } from '../config/env';

/** web over a real api process, primary and replica (the api bundle is built by the test target's dependency). */
describe('/resume.json with extra top-level keys, from PUT through MariaDB and the api to web', () => {
  const home = mkdtempSync(join(tmpdir(), 'vita-web-resume-json-'));
  let stack: RunningStack;
  let web: NestFastifyApplication;

  beforeAll(async () => {
    const [primaryPort, replicaPort, apiPort] = await Promise.all([freePort(), freePort(), freePort()]);
    stack = await startStack({ root: workspaceRoot(), home, primaryPort, replicaPort, apiPorts: [apiPort], build: false, say: () => undefined });
    web = await createWeb(loadEnv(WebEnv, { LOG_LEVEL: 'silent', API_URLS: stack.apis[0].url, API_TIMEOUT_MS: '2000', CACHE_TTL_MS: '100' }));
    await web.init();
  }, 120_000);
  afterAll(async () => {
    await web?.close();
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('serves the document exactly as the api does, equal to what was sent, extras included', async () => {
    const doc = {
      ...sampleResume(),
      'x-vita': { theme: 'teal', sizes: [1, 2.5, null], nested: { deeper: [true, false] } },
      hobbies: ['sailing', { kind: 'knots' }],
      'basics.profiles': 'a top-level key, not the profiles',
      seq: 7,
      '': 'the empty key',
    };
    const api = stack.apis[0].url;
    const put = await fetch(`${api}/api/v1/resume`, {
      method: 'PUT',
      body: JSON.stringify(doc),
      headers: { authorization: `Bearer ${stack.secrets.VITA_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    });
    expect(put.status).toBe(200);
    const { version } = (await put.json()) as { version: number };

    const deadline = Date.now() + 30_000;
    let served = await web.inject({ method: 'GET', url: '/resume.json' });
    while (served.headers.etag !== `"v${version}"` && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      served = await web.inject({ method: 'GET', url: '/resume.json' });
    }
    expect(served.headers.etag).toBe(`"v${version}"`);
    const fromApi = await fetch(`${api}/api/v1/resume`);
    expect(fromApi.headers.get('etag')).toBe(`"v${version}"`);
    expect(served.body).toBe(await fromApi.text());
    expect(JSON.parse(served.body)).toStrictEqual(doc);
  });
});
