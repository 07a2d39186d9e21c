import { sleep } from '@vita/mariadb';
import { freePort } from '@vita/testing';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawExchange } from '../../test/raw-client';
import { recordedLb, type Parsed, type RecordingBackend } from '../../test/recording-backend';
import { pipelined, VECTORS, type Vector } from '../../test/smuggling-vectors';
import { waitFor, type TestLb } from '../../test/harness';

/*
 * The vector table through HAProxy (Debian's haproxy, the peer lb replaces) and through lb, in front
 * of the same recording backend: lb never delivers a request to the backend that HAProxy does not
 * (a vector's `stricterHaproxy` says why where it may).
 */

const HAPROXY = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => spawnSync(p, ['-v']).status === 0);

describe('lb and HAProxy side by side on the smuggling vectors', () => {
  let backend: RecordingBackend;
  let lb: TestLb;
  let stop: (() => Promise<void>) | undefined;
  let haproxy: ChildProcess;
  let haproxyPort: number;
  const dir = mkdtempSync(join(tmpdir(), 'vita-haproxy-'));

  beforeAll(async () => {
    if (HAPROXY === undefined) throw new Error('haproxy is not installed (apt-get install haproxy; .ci/run installs it)');
    ({ backend, lb, stop } = await recordedLb());
    haproxyPort = await freePort();
    const config = join(dir, 'haproxy.cfg');
    writeFileSync(
      config,
      [
        'global',
        '  maxconn 1000',
        'defaults',
        '  mode http',
        '  timeout connect 2s',
        '  timeout client 5s',
        '  timeout server 5s',
        '  timeout http-request 5s',
        'frontend f',
        `  bind 127.0.0.1:${haproxyPort}`,
        '  default_backend b',
        'backend b',
        `  server rec 127.0.0.1:${backend.port}`,
        '',
      ].join('\n'),
    );
    haproxy = spawn(HAPROXY, ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    haproxy.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor('haproxy to listen', async () => {
      if (haproxy.exitCode !== null) throw new Error(`haproxy exited: ${stderr}`);
      return (await rawExchange(haproxyPort, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { maxMs: 500 })).responses.length > 0 ? true : undefined;
    });
  });
  afterAll(async () => {
    if (haproxy !== undefined && haproxy.exitCode === null) {
      const exited = new Promise((r) => haproxy.once('exit', r));
      haproxy.kill('SIGKILL');
      await exited;
    }
    await stop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  const delivered = async (port: number, v: Vector): Promise<Parsed[]> => {
    backend.reset();
    await rawExchange(port, Buffer.from(v.send, 'latin1'), { expect: v.client.filter((s) => s >= 200).length });
    await sleep(50);
    return [...backend.parsed];
  };

  const key = (p: Parsed) => `${p.method} ${p.url} ${JSON.stringify(p.body)}`;

  const vectors = [...VECTORS, ...VECTORS.map(pipelined)];
  it.each(vectors.map((v) => [v.name, v] as const))('%s', async (_name, v) => {
    const viaHaproxy = (await delivered(haproxyPort, v)).map(key);
    const viaLb = (await delivered(lb.port, v)).map(key);
    const extra = viaLb.filter((k) => !viaHaproxy.includes(k));
    if (v.stricterHaproxy === undefined) expect(extra).toEqual([]);
    // Whatever HAProxy does, lb never lets a request through that the client sent inside another.
    expect(viaLb.filter((k) => k.startsWith('GET /smuggled'))).toEqual([]);
  });
});
