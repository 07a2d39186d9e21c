import { MariaServer, replicaStatus, sleep, waitForReplicaCatchUp } from '@vita/mariadb';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatJoinToken, HostRequestError, initCa } from '@vita/sites';
import { sampleResume, workspaceRoot } from '@vita/testing';
import { percentile } from '../bench/lib/stats';
import { launchIn, Load, loadEvery, longestErrorRun } from './browser';
import { ControllerStatus, digA } from './dns-checks';
import { DNS, DNS_VANTAGES, JOINER, NodeName, PORTS, RunningSite, startSite } from './site';

interface Page {
  status: number;
  text: string;
  node: string | null;
}

/**
 * The warehouse and two content nodes on their own hosts (network namespaces, as root); every check
 * is a request from the client host, or a query over a server's admin socket.
 */
describe('several sites: a data warehouse and two content nodes on their own hosts', () => {
  let site: RunningSite;
  let token: string;
  const lines: string[] = [];
  const addr = (host: string) => site.topology.host(host).address;

  beforeAll(async () => {
    site = await startSite({
      root: workspaceRoot(),
      say: (l) => lines.push(l),
      build: false,
      durable: false,
      apiEnv: { DB_TIMEOUT_MS: '1000', DB_SITES_INTERVAL_MS: '1000' },
      // The default probe timing (every 2 s, down after 3 failures, up after 3 passes); a short hold and
      // TTL so that a node comes back, and a browser asks again, within the test.
      dnsEnv: { DNS_MIN_HOLD_MS: '2000', DNS_TTL: '5' },
    });
    token = site.secrets.VITA_ADMIN_TOKEN;
  }, 240_000);

  afterAll(async () => {
    await site?.stop();
  }, 120_000);

  const page = async (node: NodeName, connectTimeoutMs = 2000): Promise<Page> => {
    const res = await site.client.fetch(`http://${addr(node)}:${PORTS.lb}/`, { connectTimeoutMs, timeoutMs: 5000 });
    return { status: res.status, text: await res.text(), node: res.headers.get('x-vita-node') };
  };
  const put = async (node: NodeName, label: string): Promise<{ status: number; version?: number; message?: string }> => {
    const res = await site.client.fetch(`http://${addr(node)}:${PORTS.api[0]}/api/v1/resume`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...sampleResume(), basics: { ...sampleResume().basics, label } }),
      timeoutMs: 20_000,
    });
    const body = (await res.json()) as { version?: number; message?: string };
    return { status: res.status, ...body };
  };
  /** Polls `check` until it returns a value (bounded); the error says what was waited for and the last value seen. */
  const until = async <T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>, intervalMs = 200): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const v = await check();
        if (v !== undefined) return v;
      } catch (err) {
        last = err;
      }
      await sleep(intervalMs);
    }
    throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (last error: ${String(last)})` : ''}`);
  };
  const shows = (node: NodeName, label: string, timeoutMs = 20_000) =>
    until(`${label} on ${node}'s page`, timeoutMs, async () => ((await page(node)).text.includes(`>${label}<`) ? true : undefined), 20);
  const version = async (server: MariaServer) => Number((await server.query<{ version: number }[]>('SELECT version FROM vita.resume_state WHERE id = 1'))[0].version);
  const ioThread = async (server: MariaServer) => String((await replicaStatus(server))?.['Slave_IO_Running']);
  const unique = (what: string) => `${what} ${Date.now().toString(36)}`;
  const caFile = () => join(site.home, 'tls', 'ca.crt');
  /** repl-admin's view, over HTTPS verified with the site CA, from the client host. */
  const replTopology = async () =>
    (await (await site.client.fetch(`https://${addr('warehouse')}:${PORTS.replAdmin}/api/v1/topology`, { timeoutMs: 5000, caFile: caFile() })).json()) as {
      replicas: { name: string; state: string; ioThread: string | null }[];
    };
  const etagVersion = (etag: string | null) => Number(/^"v(\d+)-/.exec(etag ?? '')?.[1] ?? NaN);

  it('is up: each node serves the page through its lb, and its replica replicates from the warehouse', async () => {
    for (const node of ['node-a', 'node-b'] as const) {
      const p = await page(node);
      expect(p.status).toBe(200);
      expect(p.text).toContain('<h1>Ada Quill</h1>');
      expect(site.nodes[node].replica.host).toBe(addr(node));
      expect(await ioThread(site.nodes[node].replica)).toBe('Yes');
      expect((await replicaStatus(site.nodes[node].replica))?.['Master_Host']).toBe(addr('warehouse'));
    }
  });

  it('every database link between hosts is verified TLS: plaintext is refused, another CA does not verify, replication verifies the primary', async () => {
    // The reader's password goes in an option file (mode 600), never on the command line.
    const options = join(site.home, 'reader.cnf');
    writeFileSync(options, `[client]\nuser=vita_reader\npassword=${site.secrets.DB_READ_PASSWORD}\n`, { mode: 0o600 });
    const ca = join(site.home, 'tls', 'ca.crt');
    const sql = (target: string, ...tls: string[]) =>
      site.topology.exec('node-a', 'mariadb', [`--defaults-extra-file=${options}`, '-h', target, '-P', String(PORTS.mariadb), '--connect-timeout=5', ...tls, '-N', '-e', 'SELECT 1']);
    const plain = sql(addr('warehouse'), '--skip-ssl');
    expect(plain.status).not.toBe(0);
    expect(plain.stderr).toMatch(/Access denied|insecure transport/);
    const verified = sql(addr('warehouse'), `--ssl-ca=${ca}`, '--ssl-verify-server-cert');
    expect(verified.stderr).toBe('');
    expect(verified.stdout.trim()).toBe('1');
    // Another CA's view of the primary: its certificate does not verify.
    const otherCa = join(site.home, 'other-ca');
    await initCa({ dir: otherCa, name: 'Another CA', days: 1 });
    const untrusted = sql(addr('warehouse'), `--ssl-ca=${join(otherCa, 'ca.crt')}`, '--ssl-verify-server-cert');
    expect(untrusted.status).not.toBe(0);
    expect(untrusted.stderr).toMatch(/SSL|certificate|verif/i);
    for (const node of ['node-a', 'node-b'] as const) {
      const st = await replicaStatus(site.nodes[node].replica);
      expect(st).toMatchObject({ Master_SSL_Allowed: 'Yes', Master_SSL_Verify_Server_Cert: 'Yes', Master_SSL_CA_File: ca, Slave_IO_Running: 'Yes' });
    }
  });

  it('a write through either node reaches the primary and is on both pages (p50/p99 of write → visible on both)', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 20; i++) {
      const via: NodeName = i % 2 === 0 ? 'node-a' : 'node-b';
      const label = unique(`write ${i} via ${via}`);
      const started = Date.now();
      const res = await put(via, label);
      expect(res.status).toBe(200);
      expect(await version(site.warehouse.primary)).toBe(res.version);
      await Promise.all([shows('node-a', label), shows('node-b', label)]);
      delays.push(Date.now() - started);
    }
    const sorted = [...delays].sort((x, y) => x - y);
    console.log(`write → visible on both nodes' pages over ${delays.length} writes: p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms`);
  });

  it("node A cut from the warehouse's MariaDB: A serves its copy, A's writes get 503, its IO thread is connecting; restored, A catches up by itself", async () => {
    const a = site.nodes['node-a'];
    const before = unique('before the cut');
    expect((await put('node-a', before)).status).toBe(200);
    await shows('node-a', before);
    site.topology.cut('node-a', 'warehouse', { port: PORTS.mariadb });
    try {
      const served = await page('node-a');
      expect(served.status).toBe(200);
      expect(served.text).toContain(`>${before}<`);

      const refused = await put('node-a', unique('through A during the cut'));
      expect(refused.status).toBe(503);
      expect(refused.message).toMatch(/primary/i);

      await until("A's replica: Slave_IO_Running Connecting", 30_000, async () => ((await ioThread(a.replica)) === 'Connecting' ? true : undefined));
      await until("repl-admin: A's replica IO connecting", 30_000, async () => {
        const body = await replTopology();
        const replica = body.replicas.find((r) => r.name === 'node-a');
        return replica?.state === 'IO_CONNECTING' && replica.ioThread === 'Connecting' ? true : undefined;
      });
      // repl-admin (on the warehouse) still reaches A's replica: only A → warehouse:3306 is cut.
      const viaB = unique('through B during the cut');
      const written = await put('node-b', viaB);
      expect(written.status).toBe(200);
      await shows('node-b', viaB);
      expect(await version(a.replica)).toBeLessThan(written.version as number);
      expect((await page('node-a')).status).toBe(200);

      site.topology.restore('node-a', 'warehouse');
      await until("A's replica: IO thread running again", 30_000, async () => ((await ioThread(a.replica)) === 'Yes' ? true : undefined));
      await waitForReplicaCatchUp(a.replica, site.warehouse.primary, 30_000);
      await shows('node-a', viaB, 30_000);
    } finally {
      site.topology.restore('node-a', 'warehouse');
    }
  });

  it('node A isolated: a client knowing both addresses (first A, then B after a short connect timeout) still gets the page, from B', async () => {
    site.topology.isolate('node-a');
    try {
      const started = Date.now();
      await expect(page('node-a', 1000)).rejects.toMatchObject({ code: 'ECONNTIMEOUT' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      // What a browser does with a two-address DNS answer.
      const tried: string[] = [];
      let answered: Page | undefined;
      for (const node of ['node-a', 'node-b'] as const) {
        tried.push(node);
        answered = await page(node, 1000).catch((err: unknown) => {
          if (err instanceof HostRequestError) return undefined;
          throw err;
        });
        if (answered) break;
      }
      expect(tried).toEqual(['node-a', 'node-b']);
      expect(answered?.status).toBe(200);
      expect(answered?.text).toContain('<h1>Ada Quill</h1>');
    } finally {
      site.topology.reconnect('node-a');
    }
    expect((await page('node-a')).status).toBe(200);
  });

  it('the primary down: both nodes serve the page, writes get 503; back up, both replicate again', async () => {
    const { primary } = site.warehouse;
    await primary.kill();
    try {
      for (const node of ['node-a', 'node-b'] as const) {
        const p = await page(node);
        expect(p.status).toBe(200);
        expect(p.text).toContain('<h1>Ada Quill</h1>');
        const refused = await put(node, unique(`via ${node} with the primary down`));
        expect(refused.status).toBe(503);
      }
    } finally {
      await primary.start();
    }
    const label = unique('after the primary came back');
    await until('a write accepted again', 30_000, async () => ((await put('node-a', label)).status === 200 ? true : undefined), 500);
    await Promise.all([shows('node-a', label, 30_000), shows('node-b', label, 30_000)]);
    // The pages may show it through another read database; each replica itself must replicate again too.
    for (const node of ['node-a', 'node-b'] as const) {
      await until(`${node}'s replica replicating again`, 30_000, async () => ((await ioThread(site.nodes[node].replica)) === 'Yes' ? true : undefined));
      await waitForReplicaCatchUp(site.nodes[node].replica, primary, 30_000);
    }
  });

  it("every web instance on node A killed: A's lb still answers 200, from node B (x-vita-node: node-b)", async () => {
    const webs = site.nodes['node-a'].webs;
    await Promise.all(webs.map((w) => w.kill()));
    try {
      let last = 0;
      const p = await until("A's lb answering 200 from its backup", 20_000, async () => {
        const r = await page('node-a');
        last = r.status;
        return r.status === 200 ? r : undefined;
      }).catch((err: Error) => {
        throw new Error(`${err.message}; A's lb last answered ${last} (this needs lb's LB_BACKUPS, LB_NODE_NAME and x-vita-node)`);
      });
      expect(p.node).toBe('node-b');
      expect(p.text).toContain('<h1>Ada Quill</h1>');
    } finally {
      await Promise.all(webs.map((w) => w.start()));
    }
  });

  it('a third node joins with one command (stopped half-way and run again) while the client polls the page, serves the current version, then leaves', async () => {
    const home = join(site.home, JOINER);
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const file = join(home, 'site.yaml');
    writeFileSync(
      file,
      [
        'role: node',
        `name: ${JOINER}`,
        `address: ${addr(JOINER)}`,
        `home: ${home}`,
        `warehouse: { address: ${addr('warehouse')}, mariadb: ${PORTS.mariadb}, replAdmin: ${PORTS.replAdmin} }`,
        `ports: { mariadb: ${PORTS.mariadb}, api: [${PORTS.api.join(', ')}], web: [${PORTS.web.join(', ')}], lb: ${PORTS.lb}, lbAdmin: ${PORTS.lbAdmin}, lbPeer: ${PORTS.lbPeer} }`,
        '',
      ].join('\n'),
    );
    const joinToken = formatJoinToken(readFileSync(caFile(), 'utf8'), site.secrets.REPL_JOIN_SECRET);

    // The client keeps reading node A's page the whole time: always 200, the version never going back.
    const seen: { status: number; version: number }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const r = await site.client.fetch(`http://${addr('node-a')}:${PORTS.lb}/`, { timeoutMs: 5000 }).catch(() => null);
        seen.push({ status: r?.status ?? 0, version: etagVersion(r?.headers.get('etag') ?? null) });
        await r?.text();
        await sleep(100);
      }
    })();

    const out: string[] = [];
    const startRunner = () => {
      const child = spawn('ip', ['netns', 'exec', site.topology.host(JOINER).netns, process.execPath, '-r', join(workspaceRoot(), 'tools', 'register.js'), join(workspaceRoot(), 'tools', 'sites', 'join-runner.ts')], {
        cwd: workspaceRoot(),
        env: { PATH: process.env['PATH'] ?? '', VITA_SITE: file, VITA_JOIN_TOKEN: joinToken, VITA_ROOT: workspaceRoot() },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (d: Buffer) => out.push(...d.toString().split('\n').filter(Boolean)));
      child.stderr.on('data', (d: Buffer) => out.push(...d.toString().split('\n').filter(Boolean)));
      return child;
    };
    const saidBy = (child: ReturnType<typeof startRunner>, line: RegExp, timeoutMs: number) =>
      until(`the join runner saying ${line} (it said: ${out.slice(-5).join(' | ')})`, timeoutMs, async () => (out.some((l) => line.test(l)) ? true : child.exitCode !== null ? Promise.reject(new Error(out.join('\n'))) : undefined), 200);

    // A join stopped half-way (right after its replica was seeded), then run again: it finishes, without seeding again.
    const first = startRunner();
    try {
      await saidBy(first, /✓ replica seeded/, 180_000);
    } finally {
      first.kill('SIGTERM');
      await new Promise((r) => (first.exitCode !== null ? r(undefined) : first.once('exit', r)));
    }
    const runner = startRunner();
    const said = (line: string, timeoutMs: number) => saidBy(runner, new RegExp(`^${line}$`), timeoutMs);
    try {
      await said('joined', 180_000);
      expect(out.filter((l) => /already replicates from the primary: not seeded again/.test(l))).toHaveLength(1);
      const current = await version(site.warehouse.primary);
      const c = await site.client.fetch(`http://${addr(JOINER)}:${PORTS.lb}/`, { timeoutMs: 5000 });
      expect(c.status).toBe(200);
      expect(c.headers.get('x-vita-node')).toBe(JOINER);
      expect(etagVersion(c.headers.get('etag'))).toBe(current);
      expect(await c.text()).toContain('<h1>Ada Quill</h1>');
      // Registered: the topology (replicated to node A) lists it, repl-admin watches its replica.
      const sites = async (node: NodeName) => ((await (await site.client.fetch(`http://${addr(node)}:${PORTS.api[0]}/api/v1/sites`)).json()) as { nodes: { name: string; state: string }[] }).nodes;
      await until('node-c listed by node A', 15_000, async () => ((await sites('node-a')).some((n) => n.name === JOINER && n.state === 'active') ? true : undefined));
      // Its apis read its own replica first, then the other nodes' (from the topology when it joined), then the primary.
      const ready = (await (await site.client.fetch(`http://${addr(JOINER)}:${PORTS.api[0]}/health/ready`)).json()) as { checks: { name: string; detail?: { databases?: { name: string }[] } }[] };
      const databases = ready.checks.find((ch) => ch.name === 'read-database')?.detail?.databases?.map((d) => d.name) ?? [];
      expect(databases).toEqual([`${addr(JOINER)}:${PORTS.mariadb}`, `${addr('node-a')}:${PORTS.mariadb}`, `${addr('node-b')}:${PORTS.mariadb}`, `${addr('warehouse')}:${PORTS.mariadb}`]);
      // And the other nodes read node-c's replica too (after their own and each other's, before the primary), learned from the topology.
      const readsOf = async (node: NodeName) =>
        ((await (await site.client.fetch(`http://${addr(node)}:${PORTS.api[0]}/health/ready`)).json()) as typeof ready).checks.find((ch) => ch.name === 'read-database')?.detail?.databases?.map((d) => d.name) ?? [];
      const cReplica = `${addr(JOINER)}:${PORTS.mariadb}`;
      await until("node-a reading node-c's replica", 20_000, async () => ((await readsOf('node-a')).join() === [`${addr('node-a')}:${PORTS.mariadb}`, `${addr('node-b')}:${PORTS.mariadb}`, cReplica, `${addr('warehouse')}:${PORTS.mariadb}`].join() ? true : undefined));
      await until("repl-admin watching node-c's replica", 30_000, async () => ((await replTopology()).replicas.some((r) => r.name === JOINER && r.state === 'OK') ? true : undefined));
      // A write through the new node's api reaches the primary and the other nodes.
      const label = unique('written through node-c');
      const res = await site.client.fetch(`http://${addr(JOINER)}:${PORTS.api[0]}/api/v1/resume`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...sampleResume(), basics: { ...sampleResume().basics, label } }),
        timeoutMs: 20_000,
      });
      expect(res.status).toBe(200);
      await shows('node-a', label);

      runner.stdin.write('leave\n');
      await said('left', 60_000);
      await until(`node-c gone from the topology (the runner said: ${out.slice(-4).join(' | ')})`, 15_000, async () => (!(await sites('node-a')).some((n) => n.name === JOINER) ? true : undefined));
      await until(`repl-admin no longer watching node-c (its log: ${readFileSync(site.warehouse.replAdmin.logFile, 'utf8').split('\n').filter((l) => /[Ss]ites|topology/.test(l)).slice(-3).join(' | ')})`, 30_000, async () => (!(await replTopology()).replicas.some((r) => r.name === JOINER) ? true : undefined));
    } finally {
      polling = false;
      await poller;
      if (runner.exitCode === null) runner.kill('SIGTERM');
    }
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.filter((s) => s.status !== 200)).toEqual([]);
    const versions = seen.map((s) => s.version);
    expect(versions.every((v, i) => i === 0 || v >= versions[i - 1])).toBe(true);
  }, 300_000);
  describe('DNS failover: BIND on the warehouse, a dns controller on every host, the client resolving through that BIND', () => {
    const A = () => addr('node-a');
    const B = () => addr('node-b');
    const both = () => [A(), B()].sort().join(' ');
    /** What the client host resolves the name to (null: no answer). */
    const resolved = async () => (await digA(site.client.netns, DNS.name))?.join(' ') ?? null;
    /** A controller's status, asked from inside its own host (so it answers while that host is cut off). */
    const status = async (host: string): Promise<ControllerStatus> => {
      const res = await site.topology.host(host).fetch(`http://${addr(host)}:${PORTS.dnsController}/api/v1/status`, { timeoutMs: 5000 });
      return (await res.json()) as ControllerStatus;
    };
    const admin = async (host: string, action: 'drain' | 'undrain', node: string, reason: string) => {
      const res = await site.client.fetch(`http://${addr(host)}:${PORTS.dnsController}/api/v1/nodes/${node}/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${site.secrets.DNS_ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason }),
        timeoutMs: 20_000,
      });
      return { status: res.status, body: (await res.json()) as { record: { action: string; node: string; outcome: string; message: string }; published: { provider: string; ok: boolean; error: string | null }[] } };
    };
    /** Every controller has heard from all three and publishes both nodes; the client resolves both. */
    const settled = (timeoutMs = 30_000) =>
      until(`both nodes published, every controller with quorum (the client resolves ${both()})`, timeoutMs, async () => {
        if ((await resolved()) !== both()) return undefined;
        const all = await Promise.all(DNS_VANTAGES.map(status));
        return all.every((s) => s.quorum && s.vantages.heard.length === 3 && s.records.A?.join(' ') === both()) ? true : undefined;
      }, 250);

    it('is published: the client resolves the name through the warehouse\'s BIND to both nodes and gets the page by name', async () => {
      await settled();
      const res = await site.client.fetch(`http://${DNS.name}:${PORTS.lb}/`, { timeoutMs: 5000 });
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<h1>Ada Quill</h1>');
      expect(readFileSync(`/etc/netns/${site.client.netns}/resolv.conf`, 'utf8')).toMatch(new RegExp(`^nameserver ${addr('warehouse').replace(/\./g, '\\.')}$`, 'm'));
    });

    it("node A's lb killed: within 8 s (default probe timing) the client resolves only B; Chromium on the client, loading the page by name every second, shows an error page for a bounded time", async () => {
      await settled();
      const browser = await launchIn(site.client.netns, site.topology.scratchDir('chromium'));
      const url = `http://${DNS.name}:${PORTS.lb}/`;
      const loader = loadEvery(browser, url, '<h1>Ada Quill</h1>', 1000, 10_000);
      const lb = site.nodes['node-a'].lb;
      let loads: Load[] = [];
      const marks: Record<string, number> = {};
      try {
        await until('three loads before the kill', 20_000, async () => (loader.loads.length >= 3 ? true : undefined), 100);
        marks.killed = Date.now();
        await lb.kill();
        let withdrawnMs: number;
        try {
          withdrawnMs = await until('the client resolving only B', 15_000, async () => ((await resolved()) === B() ? Date.now() - marks.killed : undefined), 100);
          marks.withdrawn = marks.killed + withdrawnMs;
          // Long enough for the record's TTL (5 s) to run out in any cache, with loads every second.
          await sleep(7000);
        } finally {
          marks.restarted = Date.now();
          await lb.start();
        }
        await until('A back in DNS after its rise checks and the hold', 30_000, async () => ((await resolved()) === both() ? true : undefined), 200);
        marks.back = Date.now();
        await sleep(3000);
        loads = await loader.stop();
        const s = await status('node-b');
        console.log(`DNS failover, node A's lb killed: the client resolved only B ${(withdrawnMs / 1000).toFixed(1)} s after the kill (target 8 s; probes every ${2} s, down after 3)`);
        expect(s.endpoints.find((e) => e.node === 'node-a')?.published).toBe(true);
        expect(withdrawnMs).toBeLessThanOrEqual(8000);
      } finally {
        if (loads.length === 0) loads = await loader.stop();
        await browser.close();
      }
      // A load still on its way when lb was killed belongs to the kill, not to the time before it.
      const phase = (l: Load) => (l.at + l.ms < marks.killed ? 'before' : l.at < (marks.withdrawn ?? Infinity) ? 'killed' : l.at < marks.restarted ? 'withdrawn' : l.at < marks.back ? 'restarting' : 'after');
      const summary = ['before', 'killed', 'withdrawn', 'restarting', 'after'].map((p) => {
        const of = loads.filter((l) => phase(l) === p);
        const to = (ip: string) => of.filter((l) => l.ok && l.address === ip).length;
        return `${p}: ${of.length} loads, ${of.filter((l) => !l.ok).length} errors, to A ${to(A())}, to B ${to(B())}`;
      });
      const run = longestErrorRun(loads);
      const errors = loads.filter((l) => !l.ok);
      console.log(
        `Chromium on the client, ${url} every second: ${loads.length} loads, ${errors.length} error pages${errors.length ? ` (${[...new Set(errors.map((e) => e.error))].join(', ')})` : ''}, longest run of errors ${run.count} (${(run.ms / 1000).toFixed(1)} s); ${summary.join('; ')}; load times p50 ${percentile(loads.map((l) => l.ms).sort((x, y) => x - y), 50)} ms`,
      );
      expect(loads.filter((l) => phase(l) === 'before').every((l) => l.ok)).toBe(true);
      expect(loads.length).toBeGreaterThanOrEqual(15);
      // Generous: the withdrawal target plus the TTL; Chromium moves to the next address at once on a refused connection.
      expect(run.ms).toBeLessThanOrEqual(15_000);
    }, 120_000);

    it('node A drained on one controller: BIND serves only B when the call answers, audited, every controller knows; undrained on another: A is back', async () => {
      await settled();
      const reason = 'kernel upgrade (sites test)';
      const drained = await admin('node-b', 'drain', 'node-a', reason);
      expect(drained.status).toBe(200);
      expect(drained.body.published).toEqual([{ provider: 'rfc2136', ok: true, error: null }]);
      expect(drained.body.record).toMatchObject({ action: 'drain', node: 'node-a', outcome: 'done' });
      expect(await resolved()).toBe(B());
      for (const host of DNS_VANTAGES) {
        const s = await status(host);
        expect([host, s.drains]).toEqual([host, [expect.objectContaining({ node: 'node-a', drained: true, reason, by: 'node-b' })]]);
        expect([host, s.endpoints.find((e) => e.node === 'node-a')?.verdict]).toEqual([host, 'drained']);
      }
      // The drain is on the audit log (its file, and GET /api/v1/audit), without the token.
      const auditFile = site.dns.auditLog('node-b');
      await until('the drain in the audit file', 5000, async () => (readFileSync(auditFile, 'utf8').includes(reason) ? true : undefined), 100);
      const audit = readFileSync(auditFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { action: string; node: string; outcome: string; reason: string });
      expect(audit.at(-1)).toMatchObject({ action: 'drain', node: 'node-a', outcome: 'done', reason });
      expect(readFileSync(auditFile, 'utf8')).not.toContain(site.secrets.DNS_ADMIN_TOKEN);
      // Two more rounds of every controller: nobody puts it back.
      const rounds = await Promise.all(DNS_VANTAGES.map(async (h) => (await status(h)).rounds));
      await until('two more rounds everywhere', 15_000, async () => ((await Promise.all(DNS_VANTAGES.map(status))).every((s, i) => s.rounds >= rounds[i] + 2) ? true : undefined), 250);
      expect(await resolved()).toBe(B());

      const undrained = await admin('warehouse', 'undrain', 'node-a', 'upgrade done');
      expect(undrained.status).toBe(200);
      expect(undrained.body.record).toMatchObject({ action: 'undrain', node: 'node-a', outcome: 'done' });
      const started = Date.now();
      await until('A back after the undrain', 10_000, async () => ((await resolved()) === both() ? true : undefined), 100);
      console.log(`DNS drain: only B served when the drain call answered; after the undrain A was back in ${((Date.now() - started) / 1000).toFixed(1)} s (DNS_MIN_HOLD_MS 2000)`);
      for (const host of DNS_VANTAGES) expect((await status(host)).drains).toEqual([expect.objectContaining({ node: 'node-a', drained: false, by: 'warehouse' })]);
    }, 60_000);

    // The minimum hold is for a node that flapped; a drained node is back as soon as it is undrained.
    it('undrained right after its drain, A is back by the time the undrain call answers (no minimum hold for a drained node)', async () => {
      await settled();
      expect((await admin('node-a', 'drain', 'node-a', 'a short check')).status).toBe(200);
      expect(await resolved()).toBe(B());
      const undrained = await admin('node-a', 'undrain', 'node-a', 'check done');
      expect([undrained.status, undrained.body.published]).toEqual([200, [{ provider: 'rfc2136', ok: true, error: null }]]);
      const verdict = (await status('node-a')).endpoints.find((e) => e.node === 'node-a')?.verdict;
      expect([await resolved(), verdict]).toEqual([both(), 'healthy']);
    }, 60_000);

    it("the warehouse's uplink cut: its controller has no quorum and says so; the nodes' controllers keep both published; nothing is withdrawn for several rounds", async () => {
      await settled();
      site.topology.isolate('warehouse');
      try {
        // Its peers' views go stale (3 intervals + a timeout), and its own probes see both nodes down.
        const lonely = await until("the warehouse's controller: no quorum, both nodes down from there", 30_000, async () => {
          const s = await status('warehouse');
          return !s.quorum && s.vantages.heard.join() === 'warehouse' && s.endpoints.every((e) => e.here?.up === false) ? s : undefined;
        }, 250);
        expect(lonely.records.A?.join(' ')).toBe(both());
        const from = lonely.rounds;
        let checks = 0;
        // Every check must hold every time (no retry): BIND itself (asked inside the warehouse), each node's controller, the warehouse's.
        for (let w = lonely; w.rounds < from + 3; w = await status('warehouse')) {
          if (checks > 60) throw new Error(`the warehouse's controller made ${w.rounds - from} rounds in ${checks} checks`);
          expect([w.quorum, w.vantages.heard]).toEqual([false, ['warehouse']]);
          expect((await site.dns.bind.lookup(DNS.name, 'A')).join(' ')).toBe(both());
          for (const node of ['node-a', 'node-b'] as const) {
            const s = await status(node);
            expect([node, s.quorum, s.vantages.heard.sort().join(), s.records.A?.join(' ')]).toEqual([node, true, 'node-a,node-b', both()]);
            expect(s.endpoints.every((e) => e.published)).toBe(true);
          }
          checks++;
          await sleep(500);
        }
        expect(checks).toBeGreaterThanOrEqual(3);
        expect(readFileSync(site.dns.controllers['warehouse'].logFile, 'utf8')).toMatch(/no quorum: 1 of 3 vantage points heard from; DNS is left as it is/);
      } finally {
        site.topology.reconnect('warehouse');
      }
      await settled();
      expect((await site.dns.bind.lookup(DNS.name, 'A')).join(' ')).toBe(both());
    }, 90_000);
  });
});
