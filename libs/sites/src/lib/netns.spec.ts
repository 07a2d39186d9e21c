import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostRequestError, NetnsTopology, sweepLeftovers } from './netns';

const namespaces = () => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]).filter(Boolean);

/** Real namespaces (as root): a small HTTP server on `server`, reached from `client`. */
describe('NetnsTopology', () => {
  let topology: NetnsTopology;
  let servers: ChildProcess[] = [];
  const serve = async (host: string, port: number) => {
    const h = topology.host(host);
    const code = `require('http').createServer((q, s) => s.end('${host}:' + q.url)).listen(${port}, '0.0.0.0', () => console.log('up'))`;
    const child = spawn('ip', ['netns', 'exec', h.netns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    servers.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
    });
  };
  const get = (from: string, url: string) => topology.host(from).fetch(url, { connectTimeoutMs: 800, timeoutMs: 3000 }).then((r) => r.text());
  const failure = (p: Promise<unknown>) => p.then(() => 'answered', (e: unknown) => (e instanceof HostRequestError ? e.code : String(e)));

  beforeAll(async () => {
    topology = await NetnsTopology.create({ hosts: ['server', 'other', 'client'] });
    await serve('server', 5000);
    await serve('server', 5001);
  }, 30_000);
  afterAll(async () => {
    servers.forEach((s) => s.kill('SIGKILL'));
    servers = [];
    await topology?.destroy();
  });

  it('every host has its own namespace, address and loopback; names resolve from the hosts file', async () => {
    const [server, other, client] = topology.hosts;
    expect(new Set([server.netns, other.netns, client.netns]).size).toBe(3);
    expect(namespaces()).toEqual(expect.arrayContaining([server.netns, other.netns, client.netns, topology.plan.switchNetns]));
    expect(await get('client', `http://${server.address}:5000/x`)).toBe('server:/x');
    expect(await get('client', 'http://server:5001/y')).toBe('server:/y');
    expect(await get('server', 'http://127.0.0.1:5000/lo')).toBe('server:/lo');
    // The client's own loopback is its own: nothing listens there.
    expect(await failure(get('client', 'http://127.0.0.1:5000/'))).toBe('ECONNREFUSED');
    const addr = topology.exec('client', 'ip', ['-4', '-o', 'addr', 'show']).stdout;
    expect(addr).toContain(`${client.address}/24`);
    expect(addr).toContain('127.0.0.1/8');
  });

  it('cut with a port: that port hangs (no refusal), other ports and other hosts still answer; restore undoes it', async () => {
    const server = topology.host('server');
    topology.cut('client', 'server', { port: 5000 });
    const started = Date.now();
    expect(await failure(get('client', `http://${server.address}:5000/`))).toBe('ECONNTIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(await get('client', `http://${server.address}:5001/`)).toBe('server:/');
    expect(await get('other', `http://${server.address}:5000/`)).toBe('server:/');
    topology.restore('server', 'client');
    expect(await get('client', `http://${server.address}:5000/back`)).toBe('server:/back');
  });

  it('a whole cut drops every port both ways; isolate cuts a host off from everyone but itself', async () => {
    const server = topology.host('server');
    topology.cut('client', 'server');
    expect(await failure(get('client', `http://${server.address}:5001/`))).toBe('ECONNTIMEOUT');
    topology.restore('client', 'server');
    topology.isolate('server');
    expect(await failure(get('client', `http://${server.address}:5000/`))).toBe('ECONNTIMEOUT');
    expect(await failure(get('other', `http://${server.address}:5001/`))).toBe('ECONNTIMEOUT');
    expect(await get('server', `http://${server.address}:5000/self`)).toBe('server:/self');
    topology.reconnect('server');
    expect(await get('other', `http://${server.address}:5001/ok`)).toBe('server:/ok');
  });

  it('refuses unknown hosts and bad ports with a clear message', () => {
    expect(() => topology.cut('client', 'nowhere')).toThrow(/no host "nowhere" in this topology \(hosts: server, other, client\)/);
    expect(() => topology.cut('client', 'server', { port: 70000 })).toThrow(/cut port must be a TCP port/);
  });

  it('destroy removes every namespace, /etc/netns folder and agent socket of its run, also with processes still inside', async () => {
    const extra = await NetnsTopology.create({ hosts: ['lone'] });
    const lone = extra.host('lone');
    spawn('ip', ['netns', 'exec', lone.netns, 'sleep', '60'], { stdio: 'ignore' }).unref();
    expect((await failure(lone.fetch('http://127.0.0.1:1/'))) ).toBe('ECONNREFUSED');
    expect(existsSync(join('/etc/netns', lone.netns, 'hosts'))).toBe(true);
    await extra.destroy();
    const prefix = extra.plan.prefix;
    expect(namespaces().filter((n) => n.startsWith(prefix))).toEqual([]);
    expect(readdirSync('/etc/netns').filter((n) => n.startsWith(prefix))).toEqual([]);
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith(prefix))).toEqual([]);
    // The first topology is untouched.
    expect(await get('client', 'http://server:5000/still')).toBe('server:/still');
  });

  it("a sweep removes a killed run's namespaces and folders, never a live run's", () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const leftover = `vita-${dead}-0-gone`;
    spawnSync('ip', ['netns', 'add', leftover]);
    mkdirSync(join('/etc/netns', leftover), { recursive: true });
    const removed = sweepLeftovers();
    expect(removed).toContain(leftover);
    expect(namespaces()).not.toContain(leftover);
    expect(existsSync(join('/etc/netns', leftover))).toBe(false);
    expect(namespaces()).toContain(topology.host('server').netns);
  });
});
