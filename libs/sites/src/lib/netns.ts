import { ChildProcess, spawn, spawnSync, SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Blocks, checkPort, Cut, hostRules, hostsFile, HostPlan, leftovers, nftScript, planTopology, TopologyPlan } from './netns-plan';

/** What a request made from inside a host may carry (a subset of fetch's RequestInit). */
export interface HostRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Bound on the TCP connect (default 5 s): a dropped SYN fails after this, as a browser's connect timeout. */
  connectTimeoutMs?: number;
  /** Bound on the whole exchange (default 30 s). */
  timeoutMs?: number;
  /** For an https:// URL: the CA file its certificate is verified against (and the URL's host name). */
  caFile?: string;
}

/** A network error of a request made from inside a host (`code`: ECONNREFUSED, ECONNTIMEOUT, ETIMEDOUT…). */
export class HostRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** One host of the topology: its own namespace and address. */
export interface NetnsHost extends HostPlan {
  /** An HTTP request made from inside this host (its own loopback and routes), answered as fetch would. */
  fetch(url: string, init?: HostRequestInit): Promise<Response>;
}

export interface TopologyOptions {
  /** Host names, e.g. ['warehouse', 'node-a', 'node-b', 'client']; host i gets `<subnet>.<10 + i>`. */
  hosts: string[];
  /** First three octets of the segment's /24 (default 10.77.0). */
  subnet?: string;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);
let runs = 0;

/** Runs a command to completion; throws with its stderr on failure. */
function run(command: string, args: string[], input?: string): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, { encoding: 'utf8', input, timeout: 30_000 });
  if (r.error) throw new Error(`${command} ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
  return r;
}

const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const netnsNames = (): string[] =>
  run('ip', ['netns', 'list'])
    .stdout.split('\n')
    .map((l) => l.trim().split(' ')[0])
    .filter(Boolean);

/** SIGKILLs every process still inside `netns` (processes keep a deleted namespace and its links alive). */
function killInside(netns: string): void {
  const r = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' });
  for (const pid of (r.stdout ?? '').split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

function removeNetns(names: string[]): void {
  names.forEach(killInside);
  for (const name of names) {
    spawnSync('ip', ['netns', 'del', name]);
    rmSync(join('/etc/netns', name), { recursive: true, force: true });
  }
}

/** Refuses clearly when this process cannot build namespaces. */
export function checkNetnsSupport(): void {
  if (process.getuid?.() !== 0) throw new Error('network namespaces need root: run this as root (sudo)');
  for (const [tool, pkg] of [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
  ]) {
    if (spawnSync(tool, ['-V'], { encoding: 'utf8' }).error) throw new Error(`${tool} is missing: apt-get install -y ${pkg}`);
  }
}

/**
 * Removes what runs of this library left behind when their process was killed: namespaces (and with
 * them their links), /etc/netns folders and agent socket folders named `vita-<pid>-…` whose process
 * is gone. Nothing else is touched. Returns the names it removed.
 */
export function sweepLeftovers(): string[] {
  const namespaces = leftovers(netnsNames(), pidAlive);
  removeNetns(namespaces);
  const folders = existsSync('/etc/netns') ? leftovers(readdirSync('/etc/netns'), pidAlive) : [];
  folders.forEach((f) => rmSync(join('/etc/netns', f), { recursive: true, force: true }));
  const agents = leftovers(readdirSync(tmpdir()), pidAlive);
  agents.forEach((f) => rmSync(join(tmpdir(), f), { recursive: true, force: true }));
  return [...new Set([...namespaces, ...folders, ...agents])];
}

/**
 * Hosts as network namespaces on one L2 segment: a bridge inside the run's own switch namespace,
 * one veth per host (`eth0` inside the host). Nothing is added to the root namespace: this process
 * reaches a host through `host.fetch()` (an agent inside the host, on a unix socket) and runs
 * commands there with `exec()` (`ip netns exec`). Failure operations are nftables rules inside the
 * hosts' namespaces: dropped packets, so connections hang as over a cut WAN link.
 */
export class NetnsTopology {
  readonly hosts: NetnsHost[];
  private readonly blocks: Blocks = { cuts: [], isolated: [] };
  private readonly agents = new Map<string, { child: ChildProcess; ready: Promise<void> }>();
  private readonly agentDir: string;
  private destroyed = false;

  private constructor(readonly plan: TopologyPlan) {
    this.agentDir = join(tmpdir(), `${plan.prefix}agents`);
    this.hosts = plan.hosts.map((h) => ({ ...h, fetch: (url: string, init?: HostRequestInit) => this.fetch(h.name, url, init) }));
  }

  /** Sweeps leftovers of killed runs, then builds the segment; on any failure removes what it built. */
  static async create(opts: TopologyOptions): Promise<NetnsTopology> {
    checkNetnsSupport();
    sweepLeftovers();
    const topology = new NetnsTopology(planTopology(opts.hosts, { pid: process.pid, run: runs++, subnet: opts.subnet }));
    try {
      topology.build();
    } catch (err) {
      await topology.destroy();
      throw err;
    }
    return topology;
  }

  private build(): void {
    const { switchNetns: sw, hosts } = this.plan;
    run('ip', ['netns', 'add', sw]);
    run('ip', ['-n', sw, 'link', 'set', 'dev', 'lo', 'up']);
    run('ip', ['-n', sw, 'link', 'add', 'dev', 'br0', 'type', 'bridge']);
    run('ip', ['-n', sw, 'link', 'set', 'dev', 'br0', 'up']);
    for (const h of hosts) {
      run('ip', ['netns', 'add', h.netns]);
      const etc = join('/etc/netns', h.netns);
      mkdirSync(etc, { recursive: true });
      writeFileSync(join(etc, 'hosts'), hostsFile(this.plan));
      // No resolver on the segment: names resolve from the hosts file only.
      writeFileSync(join(etc, 'resolv.conf'), 'options timeout:1 attempts:1\n');
      run('ip', ['-n', sw, 'link', 'add', 'dev', h.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns]);
      run('ip', ['-n', sw, 'link', 'set', 'dev', h.name, 'master', 'br0']);
      run('ip', ['-n', sw, 'link', 'set', 'dev', h.name, 'up']);
      run('ip', ['-n', h.netns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0']);
      run('ip', ['-n', h.netns, 'link', 'set', 'dev', 'eth0', 'up']);
      run('ip', ['-n', h.netns, 'link', 'set', 'dev', 'lo', 'up']);
    }
  }

  host(name: string): NetnsHost {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host "${name}" in this topology (hosts: ${this.hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  /** A folder of this run under the temporary directory (`<tmp>/<prefix><name>`), removed by destroy() and by a later run's sweep. */
  scratchDir(name: string): string {
    if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`scratchDir name must be a-z, 0-9 and -, starting with a letter (got "${name}")`);
    const dir = join(tmpdir(), `${this.plan.prefix}${name}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /** Runs a command inside a host (`ip netns exec`) to completion. */
  exec(host: string, command: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
    return spawnSync('ip', ['netns', 'exec', this.host(host).netns, command, ...args], { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 30_000 });
  }

  /** Drops every packet between `a` and `b` both ways (with `port`: only TCP to that port on `b`, and its answers) until restore(). */
  cut(a: string, b: string, opts: { port?: number } = {}): void {
    this.host(a);
    this.host(b);
    if (a === b) throw new Error(`cut: a and b are both "${a}"`);
    const cut: Cut = { a, b, ...(opts.port !== undefined ? { port: checkPort(opts.port, 'cut port') } : {}) };
    this.blocks.cuts.push(cut);
    this.apply([a, b]);
  }

  /** Undoes every cut between `a` and `b` (either way round). */
  restore(a: string, b: string): void {
    this.host(a);
    this.host(b);
    const between = (c: Cut) => (c.a === a && c.b === b) || (c.a === b && c.b === a);
    this.blocks.cuts = this.blocks.cuts.filter((c) => !between(c));
    this.apply([a, b]);
  }

  /** Cuts `host` off from every other host (its own loopback keeps working). */
  isolate(host: string): void {
    this.host(host);
    if (!this.blocks.isolated.includes(host)) this.blocks.isolated.push(host);
    this.apply([host]);
  }

  reconnect(host: string): void {
    this.host(host);
    this.blocks.isolated = this.blocks.isolated.filter((h) => h !== host);
    this.apply([host]);
  }

  private apply(hosts: string[]): void {
    const addressOf = (name: string) => this.host(name).address;
    for (const h of hosts) run('ip', ['netns', 'exec', this.host(h).netns, 'nft', '-f', '-'], nftScript(hostRules(h, this.blocks, addressOf)));
  }

  /** An HTTP request made from inside `host`, through its agent; network failures reject with HostRequestError. */
  async fetch(host: string, url: string, init: HostRequestInit = {}): Promise<Response> {
    const h = this.host(host);
    await this.agent(h);
    const timeoutMs = init.timeoutMs ?? 30_000;
    return new Promise<Response>((resolve, reject) => {
      const headers: Record<string, string> = {
        ...init.headers,
        'x-netns-connect-timeout-ms': String(init.connectTimeoutMs ?? 5000),
        'x-netns-timeout-ms': String(timeoutMs),
        ...(init.caFile ? { 'x-netns-ca-file': init.caFile } : {}),
      };
      if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
      const req = request({ socketPath: this.socketOf(h), method: init.method ?? 'GET', path: url, headers, timeout: timeoutMs + 1000 });
      const onAbort = () => req.destroy(new HostRequestError('ABORTED', `${url} from ${host}: aborted`));
      init.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('timeout', () => req.destroy(new HostRequestError('ETIMEDOUT', `${url} from ${host}: no answer within ${timeoutMs} ms`)));
      req.on('error', (err) => {
        init.signal?.removeEventListener('abort', onAbort);
        reject(err instanceof HostRequestError ? err : new HostRequestError('EAGENT', `${url} from ${host}: the host's agent failed: ${err.message}`));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new HostRequestError('EAGENT', `${url} from ${host}: ${err.message}`)));
        res.on('end', () => {
          init.signal?.removeEventListener('abort', onAbort);
          const body = Buffer.concat(chunks);
          const failure = res.headers['x-netns-error'];
          if (typeof failure === 'string') return reject(new HostRequestError(failure, `${url} from ${host}: ${failure}: ${body.toString()}`));
          const pairs: [string, string][] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
          const status = res.statusCode ?? 502;
          resolve(new Response(NULL_BODY.has(status) ? null : body, { status, headers: pairs }));
        });
      });
      req.end(init.body);
    });
  }

  private socketOf(h: HostPlan): string {
    return join(this.agentDir, `${h.name}.sock`);
  }

  private agent(h: HostPlan): Promise<void> {
    if (this.destroyed) return Promise.reject(new Error('the topology was destroyed'));
    const known = this.agents.get(h.name);
    if (known) return known.ready;
    mkdirSync(this.agentDir, { recursive: true, mode: 0o700 });
    const child = spawn('ip', ['netns', 'exec', h.netns, process.execPath, join(__dirname, 'netns-agent.js'), this.socketOf(h)], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.unref();
    (child.stdout as NodeJS.ReadableStream & { unref?: () => void }).unref?.();
    (child.stderr as NodeJS.ReadableStream & { unref?: () => void }).unref?.();
    const ready = new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the agent of ${h.name} did not start within 10 s: ${out}`)), 10_000);
      const onData = (c: Buffer) => {
        out += c.toString();
        if (out.includes('ready\n')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        this.agents.delete(h.name);
        reject(new Error(`the agent of ${h.name} exited (${code}): ${out}`));
      });
    });
    ready.catch(() => undefined);
    this.agents.set(h.name, { child, ready });
    return ready;
  }

  /** Stops the agents, kills whatever still runs in the namespaces, removes every namespace (and so every link), /etc/netns folder and scratch folder of this run. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    await Promise.all(
      [...this.agents.values()].map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.ref(); // unref'd while running: without this the loop may end before 'exit'
            child.kill('SIGKILL');
          }),
      ),
    );
    this.agents.clear();
    const ours = netnsNames().filter((n) => n.startsWith(this.plan.prefix));
    removeNetns(ours);
    if (existsSync('/etc/netns')) {
      for (const f of readdirSync('/etc/netns').filter((n) => n.startsWith(this.plan.prefix))) rmSync(join('/etc/netns', f), { recursive: true, force: true });
    }
    for (const f of readdirSync(tmpdir()).filter((n) => n.startsWith(this.plan.prefix))) rmSync(join(tmpdir(), f), { recursive: true, force: true });
  }
}
