import { DEV_ONLY_PACKAGES, freePort, installBundle, waitForStatus } from '@vita/testing';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** What docker/web/Dockerfile puts in the image, run outside Docker (the test target builds web first). */
describe('web production bundle (the image contents)', () => {
  let bundle: ReturnType<typeof installBundle>;
  let server: ChildProcess | undefined;

  beforeAll(() => {
    bundle = installBundle('web');
  }, 300_000);
  afterAll(() => {
    server?.kill('SIGKILL');
    bundle?.remove();
  });

  it('holds templates, assets and runtime dependencies, and none of the build tools', () => {
    for (const runtime of ['@nestjs/core', '@fastify/view', '@fastify/helmet', 'eta']) expect(existsSync(join(bundle.dir, 'node_modules', runtime))).toBe(true);
    for (const tool of DEV_ONLY_PACKAGES) expect(existsSync(join(bundle.dir, 'node_modules', tool))).toBe(false);
    expect(readdirSync(join(bundle.dir, 'views')).sort()).toEqual(['error.eta', 'layout.eta', 'page.eta']);
    expect(readdirSync(join(bundle.dir, 'assets'))).toEqual(expect.arrayContaining(['site.css', 'portrait.svg']));
  });

  it('starts with no api reachable: live 200, the page a 503 page, HEALTHCHECK agrees', async () => {
    const port = await freePort();
    const env = { PATH: process.env['PATH'], NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', API_URLS: `http://127.0.0.1:${await freePort()}` };
    server = spawn('node', ['main.js'], { cwd: bundle.dir, env, stdio: 'ignore' });
    expect(await waitForStatus(`http://127.0.0.1:${port}/health/live`)).toBe(200);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('Back in a moment');
    expect(spawnSync('node', ['healthcheck.js'], { cwd: bundle.dir, env }).status).toBe(0);
  });
});
