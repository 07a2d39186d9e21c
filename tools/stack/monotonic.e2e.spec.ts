import { sleep } from '@vita/mariadb';
import { RunningStack, startStack } from '@vita/stack';
import { freePort, sampleResume, workspaceRoot } from '@vita/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The whole stack (replica and primary, two apis, two webs, lb) while the replica stops, falls
 * behind and comes back delayed: a client polling through lb, revalidating as browsers do, never
 * sees the résumé go back to an older version, on the page or in /resume.json.
 */
describe('through lb, the résumé never goes back to an older version', () => {
  const home = mkdtempSync(join(tmpdir(), 'vita-monotonic-'));
  let stack: RunningStack;
  let lbUrl: string;

  beforeAll(async () => {
    const ports = await Promise.all(Array.from({ length: 8 }, () => freePort()));
    stack = await startStack({
      root: workspaceRoot(),
      home,
      primaryPort: ports[0],
      replicaPort: ports[1],
      apiPorts: ports.slice(2, 4),
      webPorts: ports.slice(4, 6),
      lb: { port: ports[6], adminPort: ports[7], listenHost: '127.0.0.1', workers: 1 },
      build: false,
      say: () => undefined,
    });
    lbUrl = `http://127.0.0.1:${ports[6]}`;
  }, 180_000);

  afterAll(async () => {
    await stack?.replica.query('STOP SLAVE').catch(() => undefined);
    await stack?.replica.query('CHANGE MASTER TO MASTER_DELAY = 0').catch(() => undefined);
    await stack?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  /** Writes a résumé whose label carries `n`, through the first api. */
  async function put(n: number): Promise<void> {
    const doc = { ...sampleResume(), basics: { ...sampleResume().basics, label: `Release ${n}` } };
    const res = await fetch(`${stack.apis[0].url}/api/v1/resume`, {
      method: 'PUT',
      body: JSON.stringify(doc),
      headers: { authorization: `Bearer ${stack.secrets.VITA_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      signal: AbortSignal.timeout(15_000),
    });
    if (res.status !== 200) throw new Error(`PUT ${n} answered ${res.status}: ${await res.text()}`);
  }

  const label = /Release (\d+)/;
  /**
   * What one poller has seen: the release number of each answer, in order. It revalidates as a
   * browser does (If-None-Match with the ETag it holds; a 304 means its copy still stands), and lb
   * spreads its requests over both web instances.
   */
  function poll(path: string, until: () => boolean): Promise<number[]> {
    return (async () => {
      const seen: number[] = [];
      let held: { etag: string; release: number } | undefined;
      for (let i = 0; i < 20_000 && !until(); i++) {
        const headers: Record<string, string> = held ? { 'if-none-match': held.etag } : {};
        const res = await fetch(`${lbUrl}${path}`, { headers, signal: AbortSignal.timeout(5000) }).catch(() => undefined);
        const body = (await res?.text()) ?? '';
        const match = label.exec(body);
        if (res?.status === 200 && match) held = { etag: res.headers.get('etag') ?? '', release: Number(match[1]) };
        if (held && (res?.status === 200 || res?.status === 304)) seen.push(held.release);
        await sleep(5);
      }
      return seen;
    })();
  }

  async function waitForRelease(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const text = await fetch(`${lbUrl}/resume.json`).then((r) => r.text(), () => '');
      if (label.exec(text)?.[1] === String(n)) return;
      await sleep(50);
    }
    throw new Error(`release ${n} not served through lb within ${timeoutMs} ms`);
  }

  it('a replica stopped, written past and restarted (delayed) under polling', async () => {
    await put(1);
    await waitForRelease(1, 15_000);
    let done = false;
    const pollers = [poll('/', () => done), poll('/resume.json', () => done), poll('/resume.json', () => done)];
    try {
      await stack.replica.query('STOP SLAVE');
      await put(2);
      await put(3);
      await waitForRelease(3, 15_000);
      // Replicating again, but 3 s behind: running threads and a small Seconds_Behind_Master, old data.
      await stack.replica.query('CHANGE MASTER TO MASTER_DELAY = 3');
      await stack.replica.query('START SLAVE');
      await sleep(2500);
      await put(4);
      await waitForRelease(4, 15_000);
      await sleep(4000);
    } finally {
      done = true;
    }
    const seen = await Promise.all(pollers);
    for (const releases of seen) {
      expect(releases.length).toBeGreaterThan(50);
      const backwards = releases.findIndex((n, i) => i > 0 && n < releases[i - 1]);
      expect(backwards === -1 ? 'never backwards' : `went from ${releases[backwards - 1]} back to ${releases[backwards]}`).toBe('never backwards');
      expect(releases[releases.length - 1]).toBe(4);
    }
  });
});
