import type { TopologyDto } from '@vita/contracts';
import { DEV_ONLY_PACKAGES, freePort, installBundle, waitForStatus } from '@vita/testing';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What docker/repl-admin/Dockerfile puts in the image, run outside Docker: the bundle from
 * `nx run repl-admin:build` with only its production dependencies, started the way the image's CMD
 * and HEALTHCHECK do. (The test target depends on the build, so the bundle is fresh.)
 */
describe('repl-admin production bundle (the image contents)', () => {
  let bundle: ReturnType<typeof installBundle>;
  let server: ChildProcess | undefined;

  beforeAll(() => {
    bundle = installBundle('repl-admin');
  }, 300_000);
  afterAll(() => {
    server?.kill('SIGKILL');
    bundle?.remove();
  });

  it('holds the runtime dependencies and none of the build tools', () => {
    for (const runtime of ['@nestjs/core', '@nestjs/platform-fastify', 'mariadb', 'class-validator', 'prom-client', 'eta', 'yaml']) {
      expect(existsSync(join(bundle.dir, 'node_modules', runtime))).toBe(true);
    }
    for (const tool of DEV_ONLY_PACKAGES) expect(existsSync(join(bundle.dir, 'node_modules', tool))).toBe(false);
    for (const entry of ['main.js', 'provision.js', 'cli.js', 'healthcheck.js']) expect(existsSync(join(bundle.dir, entry))).toBe(true);
  });

  it('refuses a bad environment with one line naming the variable', () => {
    const { status, stderr } = spawnSync(process.execPath, ['main.js'], { cwd: bundle.dir, env: { PATH: process.env['PATH'], REPL_SERVERS: 'primary=db' }, encoding: 'utf8', timeout: 30_000 });
    expect([status, stderr.trim()]).toEqual([1, expect.stringMatching(/^repl-admin: invalid environment: REPL_SERVERS must be a comma-separated list[^\n]*$/)]);
  });

  it('starts without its databases, answers /health/live 200, its HEALTHCHECK agrees, and no secret reaches its output', async () => {
    const port = await freePort();
    const dead = `127.0.0.1:${await freePort()}`;
    const secrets = { REPL_MONITOR_PASSWORD: 'monitor-password-7f3a', REPL_ADMIN_PASSWORD: 'admin-password-9c1e', REPL_ADMIN_TOKEN: 'image-test-token-0123456789' };
    const env = {
      PATH: process.env['PATH'],
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      REPL_SERVERS: `primary=${dead},replica1=${dead}@node-a`,
      REPL_MONITOR_USER: 'repl_monitor',
      REPL_ADMIN_USER: 'repl_admin',
      REPL_POLL_INTERVAL_MS: '200',
      REPL_ALERT_AFTER_SECONDS: '0',
      REPL_ALERT_WEBHOOK_URL: `http://${dead}/hook?token=webhook-secret-55aa`,
      ...secrets,
    };
    let output = '';
    server = spawn('node', ['main.js'], { cwd: bundle.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    expect(await waitForStatus(`http://127.0.0.1:${port}/health/live`)).toBe(200);
    expect(spawnSync('node', ['healthcheck.js'], { cwd: bundle.dir, env }).status).toBe(0);
    const topology = (await fetch(`http://127.0.0.1:${port}/api/v1/topology?fresh=1`).then((r) => r.json())) as TopologyDto;
    expect(topology.replicas[0]).toMatchObject({ name: 'replica1', state: 'UNREACHABLE', node: 'node-a' });
    const cli = spawnSync('node', ['cli.js', 'status'], { cwd: bundle.dir, env: { ...env, REPL_ADMIN_URL: `http://127.0.0.1:${port}` }, encoding: 'utf8' });
    expect(cli.status).toBe(2);
    expect(cli.stdout).toMatch(/^replica1\s+UNREACHABLE/m);
    await new Promise((r) => setTimeout(r, 1000)); // a few failing checks, heartbeats and alert attempts
    server.kill('SIGTERM');
    await new Promise((r) => server?.once('exit', r));
    expect(spawnSync('node', ['healthcheck.js'], { cwd: bundle.dir, env }).status).toBe(1);
    expect(output).toMatch(/heartbeat write failed/);
    for (const s of [...Object.values(secrets), 'webhook-secret-55aa']) expect(output + cli.stdout).not.toContain(s);
  });
});
