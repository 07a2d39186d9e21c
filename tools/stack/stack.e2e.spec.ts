import { findMariadbdPids } from '@vita/mariadb';
import { freePort, sampleResume, workspaceRoot } from '@vita/testing';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError, exportResume, importResume } from '../resume/resume-cli';
import { parseEnvFile } from '@vita/stack';

/** `npm start` as a user runs it (the api bundle is built by the test target's dependency). */
describe('npm start: the whole stack on one machine', () => {
  const root = workspaceRoot();
  const home = mkdtempSync(join(tmpdir(), 'vita-stack-test-'));
  let env: NodeJS.ProcessEnv;
  let apiUrls: string[];
  let webUrl: string;
  let lbUrl: string;
  let replAdminUrl: string;

  beforeAll(async () => {
    const ports = await Promise.all(Array.from({ length: 8 }, () => freePort()));
    apiUrls = ports.slice(2, 4).map((p) => `http://127.0.0.1:${p}`);
    webUrl = `http://127.0.0.1:${ports[4]}`;
    lbUrl = `http://127.0.0.1:${ports[5]}`;
    replAdminUrl = `http://127.0.0.1:${ports[7]}`;
    env = {
      ...process.env,
      VITA_HOME: home,
      VITA_SKIP_BUILD: '1',
      VITA_PRIMARY_PORT: String(ports[0]),
      VITA_REPLICA_PORT: String(ports[1]),
      VITA_API_PORTS: ports.slice(2, 4).join(','),
      VITA_WEB_PORTS: String(ports[4]),
      VITA_LB_PORT: String(ports[5]),
      VITA_LB_ADMIN_PORT: String(ports[6]),
      VITA_LB_HOST: '127.0.0.1',
      VITA_REPL_ADMIN_PORT: String(ports[7]),
    };
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  function start(): { child: ChildProcess; output: () => string; ready: Promise<void> } {
    let out = '';
    const child = spawn(process.execPath, ['-r', './tools/register.js', 'tools/stack/start.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stack not ready in 120 s:\n${out}`)), 120_000);
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('[vita] ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`stack exited (${code}) before it was ready:\n${out}`));
      });
    });
    return { child, output: () => out, ready };
  }

  /** Ctrl-C; resolves to the exit code, or the signal that ended the process. */
  async function stop(child: ChildProcess): Promise<number | string | null> {
    const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    child.kill('SIGINT');
    return exited;
  }

  const getResume = (url: string) => fetch(`${url}/api/v1/resume`).then(async (r) => ({ etag: r.headers.get('etag'), body: (await r.json()) as { basics: { label?: string } } }));

  it('starts, loads the sample, imports and exports, stops cleanly, and keeps its data for the next start', async () => {
    let firstEnd: number | string | null = null;
    let secondEnd: number | string | null = null;
    const first = start();
    try {
      await first.ready;
      expect(first.output()).toContain('sample résumé loaded');
      for (const url of apiUrls) expect((await getResume(url)).body).toEqual(sampleResume());
      for (const url of [webUrl, lbUrl]) {
        const page = await fetch(`${url}/`);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<h1>Ada Quill</h1>');
      }
      const topology = (await (await fetch(`${replAdminUrl}/api/v1/topology`)).json()) as { replicas: { name: string; state: string }[] };
      expect(topology.replicas).toEqual([expect.objectContaining({ name: 'replica1', state: 'OK' })]);

      const secretsFile = join(home, 'secrets.env');
      expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
      const secrets = parseEnvFile(readFileSync(secretsFile, 'utf8'), secretsFile);
      expect(secrets['VITA_ADMIN_TOKEN']).toMatch(/^[\w-]{24,}$/);
      for (const log of ['api-' + apiUrls[0].split(':')[2] + '.log', 'primary.log']) {
        expect(readFileSync(join(home, 'logs', log), 'utf8')).not.toContain(secrets['DB_READ_PASSWORD']);
      }

      const ctx = { apiUrl: apiUrls[1], token: secrets['VITA_ADMIN_TOKEN'], out: () => undefined };
      const changed = { ...sampleResume(), basics: { name: 'Ada Quill', label: 'Principal Engineer' } };
      const file = join(home, 'changed.json');
      writeFileSync(file, JSON.stringify(changed));
      expect(await importResume(file, ctx)).toBe(2);

      writeFileSync(file, '{\n  "basics": {\n    "email": "nope"\n  },\n  "work": [{ "startDate": 2020 }]\n}');
      await expect(importResume(file, ctx)).rejects.toThrow(/basics\.email: must be an e-mail address\n\s+work\[0\]\.startDate: must be a string/);
      writeFileSync(file, '{\n  "basics": {,\n}');
      await expect(importResume(file, ctx)).rejects.toThrow(CliError);

      const deadline = Date.now() + 10_000;
      for (const url of apiUrls) {
        while ((await getResume(url)).etag !== '"v2"' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      }
      const exported = join(home, 'exported.json');
      await exportResume(exported, ctx);
      expect(JSON.parse(readFileSync(exported, 'utf8'))).toEqual(changed);
      expect((await getResume(apiUrls[0])).body).toEqual(changed);
    } finally {
      firstEnd = await stop(first.child);
    }
    if (firstEnd !== 0) throw new Error(`the first start ended with ${firstEnd}:\n${first.output()}`);
    expect(first.output()).toContain('[vita] stopped');
    expect(findMariadbdPids(home)).toEqual([]);
    await expect(fetch(`${apiUrls[0]}/health/live`)).rejects.toThrow();

    const second = start();
    try {
      await second.ready;
      expect(second.output()).not.toContain('sample résumé loaded');
      const again = await getResume(apiUrls[0]);
      expect(again.etag).toBe('"v2"');
      expect(again.body.basics.label).toBe('Principal Engineer');
    } finally {
      secondEnd = await stop(second.child);
    }
    if (secondEnd !== 0) throw new Error(`the second start ended with ${secondEnd}:\n${second.output()}`);
  });
});
