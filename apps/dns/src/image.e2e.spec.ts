import { DEV_ONLY_PACKAGES, freePort, installBundle, waitForStatus } from '@vita/testing';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsStatus } from './app/controller/engine';

/**
 * What docker/dns/Dockerfile puts in the image, run outside Docker: the bundle from `nx run
 * dns:build` with only its production dependencies, started the way the image's CMD and
 * HEALTHCHECK do.
 */
describe('dns production bundle (the image contents)', () => {
  let bundle: ReturnType<typeof installBundle>;
  let server: ChildProcess | undefined;
  let dir: string;

  beforeAll(() => {
    bundle = installBundle('dns');
    dir = mkdtempSync(join(tmpdir(), 'vita-dns-image-'));
  }, 300_000);
  afterAll(() => {
    server?.kill('SIGKILL');
    bundle?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the runtime dependencies and none of the build tools', () => {
    for (const runtime of ['@nestjs/core', '@nestjs/platform-fastify', '@aws-sdk/client-route-53', 'class-validator', 'prom-client', 'eta']) {
      expect(existsSync(join(bundle.dir, 'node_modules', runtime))).toBe(true);
    }
    for (const tool of DEV_ONLY_PACKAGES) expect(existsSync(join(bundle.dir, 'node_modules', tool))).toBe(false);
    for (const entry of ['main.js', 'cli.js', 'healthcheck.js']) expect(existsSync(join(bundle.dir, entry))).toBe(true);
  });

  it('refuses a bad environment with one line naming the variable', () => {
    const { status, stderr } = spawnSync(process.execPath, ['main.js'], { cwd: bundle.dir, env: { PATH: process.env['PATH'], DNS_NAME: 'resume.vita.test', DNS_NODES: 'a=10.0.0.1', DNS_TTL: 'soon' }, encoding: 'utf8', timeout: 30_000 });
    expect([status, stderr.trim()]).toEqual([1, expect.stringMatching(/^dns: invalid environment: DNS_TTL must be an integer number[^\n]*$/)]);
  });

  it('starts with its DNS server and nodes down, answers /health/live, its HEALTHCHECK agrees, and no secret reaches its output', async () => {
    const port = await freePort();
    const dead = await freePort();
    const secret = Buffer.alloc(32, 9).toString('base64');
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, `key "vita-update" {\n\talgorithm hmac-sha256;\n\tsecret "${secret}";\n};\n`, { mode: 0o600 });
    const secrets = { DNS_ADMIN_TOKEN: 'image-admin-token-0123456789', DNS_PEER_TOKEN: 'image-peer-token-0123456789' };
    const env = {
      PATH: process.env['PATH'],
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      DNS_NAME: 'resume.vita.test',
      DNS_NODES: 'node-a=127.0.0.41',
      DNS_PROBE_PORT: String(dead),
      DNS_PROBE_INTERVAL_MS: '200',
      DNS_PROBE_TIMEOUT_MS: '150',
      DNS_RFC2136_SERVER: `127.0.0.1:${dead}`,
      DNS_TSIG_KEY_FILE: keyFile,
      DNS_PEERS: `http://127.0.0.1:${dead}`,
      DNS_ALERT_WEBHOOK_URL: `http://127.0.0.1:${dead}/hook?token=webhook-secret-55aa`,
      ...secrets,
    };
    let output = '';
    server = spawn('node', ['main.js'], { cwd: bundle.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    server.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    expect(await waitForStatus(`http://127.0.0.1:${port}/health/live`)).toBe(200);
    expect(spawnSync('node', ['healthcheck.js'], { cwd: bundle.dir, env }).status).toBe(0);
    await new Promise((r) => setTimeout(r, 1500)); // rounds of failing probes, peer exchanges and alert attempts
    const status = (await fetch(`http://127.0.0.1:${port}/api/v1/status`).then((r) => r.json())) as DnsStatus;
    expect([status.quorum, status.endpoints[0]?.here?.up]).toEqual([false, false]);
    const cli = spawnSync('node', ['cli.js', 'status'], { cwd: bundle.dir, env: { ...env, DNS_URL: `http://127.0.0.1:${port}` }, encoding: 'utf8' });
    expect(cli.status).toBe(2);
    expect(cli.stdout).toMatch(/no quorum: DNS is left as it is/);
    server.kill('SIGTERM');
    await new Promise((r) => server?.once('exit', r));
    expect(spawnSync('node', ['healthcheck.js'], { cwd: bundle.dir, env }).status).toBe(1);
    for (const s of [...Object.values(secrets), secret, 'webhook-secret-55aa']) expect(output + cli.stdout).not.toContain(s);
  });
});
