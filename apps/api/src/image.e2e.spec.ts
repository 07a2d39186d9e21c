import { workspaceRoot, freePort } from '@vita/testing';
import { ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * What docker/api/Dockerfile puts in the image, run outside Docker: the bundle from `nx run api:build`
 * (with its generated, pruned package.json and lock file) plus `npm ci --omit=dev`, started the way the image's CMD and HEALTHCHECK do.
 * (The test target depends on api:build, so the bundle is fresh.)
 */
describe('api production bundle (the image contents)', () => {
  const dist = join(workspaceRoot(), 'dist', 'apps', 'api');
  let dir: string;
  let server: ChildProcess | undefined;

  beforeAll(() => {
    if (!existsSync(join(dist, 'package-lock.json'))) throw new Error(`${dist} has no bundle: run \`npx nx run api:build\``);
    dir = mkdtempSync(join(tmpdir(), 'vita-api-image-'));
    cpSync(dist, dir, { recursive: true });
    execFileSync('npm', ['ci', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'pipe', timeout: 240_000 });
  }, 300_000);

  afterAll(() => {
    server?.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds the runtime dependencies and none of the build tools', () => {
    for (const runtime of ['@nestjs/core', '@nestjs/platform-fastify', 'typeorm', 'mysql2', 'class-validator', 'mysql2']) {
      expect(existsSync(join(dir, 'node_modules', runtime))).toBe(true);
    }
    for (const tool of ['typescript', 'jest', 'nx', '@nx/webpack', 'webpack', 'ts-node']) {
      expect(existsSync(join(dir, 'node_modules', tool))).toBe(false);
    }
    for (const entry of ['main.js', 'migrate.js', 'provision.js', 'healthcheck.js']) expect(existsSync(join(dir, entry))).toBe(true);
  });

  it('refuses to start on a bad environment with one line naming the variable', () => {
    const run = spawnSync('node', ['main.js'], { cwd: dir, env: { PATH: process.env['PATH'] }, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^api: invalid environment: .*DB_READ_HOSTS/);
  });

  it('starts, answers /health/live 200, and its HEALTHCHECK script agrees', async () => {
    const port = await freePort();
    const deadDb = `127.0.0.1:${await freePort()}`;
    const env = {
      PATH: process.env['PATH'],
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DB_READ_HOSTS: deadDb,
      DB_READ_USER: 'r',
      DB_READ_PASSWORD: 'r-password',
      DB_WRITE_HOST: deadDb,
      DB_WRITE_USER: 'w',
      DB_WRITE_PASSWORD: 'w-password',
      VITA_ADMIN_TOKEN: 'image-test-token-0123456789',
    };
    server = spawn('node', ['main.js'], { cwd: dir, env, stdio: 'ignore' });
    const deadline = Date.now() + 30_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      status = await fetch(`http://127.0.0.1:${port}/health/live`).then((r) => r.status, () => 0);
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
    expect(spawnSync('node', ['healthcheck.js'], { cwd: dir, env }).status).toBe(0);
    server.kill('SIGTERM');
    await new Promise((r) => server?.once('exit', r));
    expect(spawnSync('node', ['healthcheck.js'], { cwd: dir, env }).status).toBe(1);
  });
});
