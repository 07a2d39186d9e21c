import { DEV_ONLY_PACKAGES, freePort, installBundle, waitForStatus } from '@vita/testing';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What docker/api/Dockerfile puts in the image, run outside Docker: the bundle from `nx run api:build`
 * with only its production dependencies, started the way the image's CMD and HEALTHCHECK do.
 * (The test target depends on api:build, so the bundle is fresh.)
 */
describe('api production bundle (the image contents)', () => {
  let bundle: ReturnType<typeof installBundle>;
  let server: ChildProcess | undefined;

  beforeAll(() => {
    bundle = installBundle('api');
  }, 300_000);
  afterAll(() => {
    server?.kill('SIGKILL');
    bundle?.remove();
  });

  it('holds the runtime dependencies and none of the build tools', () => {
    for (const runtime of ['@nestjs/core', '@nestjs/platform-fastify', 'typeorm', 'mysql2', 'class-validator']) {
      expect(existsSync(join(bundle.dir, 'node_modules', runtime))).toBe(true);
    }
    for (const tool of DEV_ONLY_PACKAGES) expect(existsSync(join(bundle.dir, 'node_modules', tool))).toBe(false);
    for (const entry of ['main.js', 'migrate.js', 'provision.js', 'healthcheck.js']) expect(existsSync(join(bundle.dir, entry))).toBe(true);
  });

  it('refuses to start on a bad environment with one line naming the variable', () => {
    const run = spawnSync('node', ['main.js'], { cwd: bundle.dir, env: { PATH: process.env['PATH'] }, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^api: invalid environment: .*DB_READ_HOSTS/);
  });

  it('starts, answers /health/live 200, and its HEALTHCHECK script agrees', async () => {
    const port = await freePort();
    const deadPort = await freePort();
    const deadDb = `127.0.0.1:${deadPort}`;
    const env = {
      PATH: process.env['PATH'],
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DB_READ_HOSTS: `replica@${deadDb}`,
      DB_READ_USER: 'r',
      DB_READ_PASSWORD: 'r-password',
      DB_WRITE_HOST: `127.0.0.2:${deadPort}`, // another loopback address: a replica is never the primary's server
      DB_WRITE_USER: 'w',
      DB_WRITE_PASSWORD: 'w-password',
      VITA_ADMIN_TOKEN: 'image-test-token-0123456789',
    };
    server = spawn('node', ['main.js'], { cwd: bundle.dir, env, stdio: 'ignore' });
    expect(await waitForStatus(`http://127.0.0.1:${port}/health/live`)).toBe(200);
    expect(spawnSync('node', ['healthcheck.js'], { cwd: bundle.dir, env }).status).toBe(0);
    server.kill('SIGTERM');
    await new Promise((r) => server?.once('exit', r));
    expect(spawnSync('node', ['healthcheck.js'], { cwd: bundle.dir, env }).status).toBe(1);
  });
});
