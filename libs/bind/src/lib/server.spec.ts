import { execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BindServer } from './server';
import { OWNER_FILE, pidAlive, sweepStaleBind } from './process';

/** dig as an independent oracle: the sorted rdata named serves (TCP, no recursion). */
function dig(server: BindServer, name: string, type: string, wrap: string[] = []): string[] {
  const args = ['+tcp', '+norecurse', '+short', '+time=2', '+tries=2', '-p', String(server.port), `@${server.address}`, name, type];
  const out = execFileSync(wrap[0] ?? 'dig', [...wrap.slice(1), ...(wrap.length ? ['dig'] : []), ...args], { encoding: 'utf8', timeout: 15_000 });
  return out.split('\n').filter(Boolean).sort();
}

describe('BindServer (real named)', () => {
  const servers: BindServer[] = [];
  const start = async (o: Parameters<typeof BindServer.start>[0]) => {
    const s = await BindServer.start(o);
    servers.push(s);
    return s;
  };
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  let a: BindServer;
  beforeAll(async () => {
    a = await start({
      zone: 'vita.test',
      records: [
        { name: 'www', type: 'A', value: '192.0.2.1', ttl: 60 },
        { name: 'www', type: 'AAAA', value: '2001:DB8:0::1', ttl: 60 },
      ],
    });
  });

  it('starts and answers the zone SOA; the key file is 0600 in BIND syntax and the secret is on no command line', () => {
    const soa = dig(a, 'vita.test', 'SOA');
    expect(soa).toHaveLength(1);
    expect(soa[0]).toMatch(/^ns\.vita\.test\. hostmaster\.vita\.test\. 1 /);
    expect(a.address).toBe('127.0.0.1');
    expect(a.port).toBeGreaterThan(0);
    expect(statSync(a.keyFile).mode & 0o777).toBe(0o600);
    expect(Buffer.from(a.key.secret, 'base64')).toHaveLength(32);
    expect(readFileSync(a.keyFile, 'utf8')).toContain(`key "${a.key.name}" {`);
    expect(readFileSync(`/proc/${a.pid}/cmdline`, 'utf8')).not.toContain(a.key.secret);
    expect(a.output()).toMatch(/zone vita\.test\/IN: loaded serial 1/);
  });

  it('serves the seeded records: lookup agrees with dig, TTLs as given, [] for NXDOMAIN and NODATA', async () => {
    expect(await a.lookup('www', 'A')).toEqual(dig(a, 'www.vita.test', 'A'));
    expect(await a.lookup('www.vita.test', 'A')).toEqual(['192.0.2.1']);
    expect(await a.lookup('www', 'AAAA')).toEqual(['2001:db8::1']);
    expect(await a.ttl('www', 'A')).toBe(60);
    expect(await a.lookup('nothing-here', 'A')).toEqual([]);
    expect(await a.ttl('nothing-here', 'A')).toBeNull();
    expect(await a.lookup('ns', 'AAAA')).toEqual([]);
  });

  it('handEdit changes what lookup (and dig) return, and can delete a set', async () => {
    await a.handEdit('edited', 'A', ['192.0.2.20', '192.0.2.10'], 120);
    expect(await a.lookup('edited', 'A')).toEqual(['192.0.2.10', '192.0.2.20']);
    expect(dig(a, 'edited.vita.test', 'A')).toEqual(['192.0.2.10', '192.0.2.20']);
    expect(await a.ttl('edited', 'A')).toBe(120);
    await a.handEdit('edited', 'A', ['192.0.2.30']);
    expect(await a.lookup('edited', 'A')).toEqual(['192.0.2.30']);
    await a.handEdit('edited', 'A', []);
    expect(await a.lookup('edited', 'A')).toEqual([]);
    expect(await a.waitForOutput(/signer "vita-update" approved/)).toMatch(/updating zone 'vita\.test\/IN'|approved/);
    await expect(a.waitForOutput(/no such line, ever/, 100)).rejects.toThrow(`bind 127.0.0.1#${a.port}: no output line matching /no such line, ever/ within 100 ms`);
  });

  it('a second server (IPv6 ::1, its own key name) runs at the same time on another port with its own data', async () => {
    const b = await start({ zone: 'other.test', address: '::1', keyName: 'other-key', records: [{ name: 'www', type: 'A', value: '198.51.100.1' }] });
    expect(b.port).not.toBe(a.port);
    expect(await b.lookup('www', 'A')).toEqual(['198.51.100.1']);
    expect(dig(b, 'www.other.test', 'A')).toEqual(['198.51.100.1']);
    await b.handEdit('www', 'A', ['198.51.100.2']);
    expect(await b.lookup('www', 'A')).toEqual(['198.51.100.2']);
    expect(await a.lookup('www', 'A')).toEqual(['192.0.2.1']);
    expect(b.key.secret).not.toBe(a.key.secret);
  });

  it('stop() ends named and removes its dir; a stopped server answers nothing; stop twice is fine', async () => {
    const c = await start({ zone: 'gone.test' });
    const { pid, dir, port } = c;
    expect(pid && pidAlive(pid)).toBe(true);
    await c.stop();
    expect(pidAlive(pid as number)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    const r = spawnSync('dig', ['+tcp', '+time=1', '+tries=1', '-p', String(port), '@127.0.0.1', 'gone.test', 'SOA'], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).not.toBe(0);
    await expect(c.handEdit('www', 'A', ['192.0.2.1'])).rejects.toThrow(`bind 127.0.0.1#${port}: nsupdate of www.gone.test A failed`);
    await c.stop();
  });

  it('a bad seeded record fails start with the field named and leaves no dir behind', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'vita-bind-parent-'));
    try {
      await expect(BindServer.start({ zone: 'vita.test', dir: parent, records: [{ name: 'www', type: 'A', value: '::1' }] })).rejects.toThrow(
        'records[0].value: "::1" is not an IPv4 address',
      );
      expect(execFileSync('ls', ['-A', parent], { encoding: 'utf8' })).toBe('');
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('a port already in use (given explicitly) fails start at once with the reason, leaving no dir behind', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'vita-bind-parent-'));
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(BindServer.start({ zone: 'vita.test', port, dir: parent })).rejects.toThrow(`bind 127.0.0.1#${port} (zone vita.test) failed to start: the port is in use`);
      expect(execFileSync('ls', ['-A', parent], { encoding: 'utf8' })).toBe('');
    } finally {
      await new Promise((r) => taken.close(r));
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('sweepStaleBind removes harness dirs whose owner process is gone and keeps live ones', () => {
    const parent = mkdtempSync(join(tmpdir(), 'vita-bind-parent-'));
    try {
      const dead = spawnSync('true').pid as number;
      const stale = join(parent, 'vita-bind-stale');
      const live = join(parent, 'vita-bind-live');
      for (const [d, owner] of [[stale, dead], [live, process.pid]] as const) {
        mkdirSync(d);
        writeFileSync(join(d, OWNER_FILE), `${owner}\n`);
      }
      expect(sweepStaleBind(parent)).toEqual([stale]);
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(live)).toBe(true);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('wrap: named runs inside a network namespace the test creates; lookup, handEdit and stop go through the wrap', async () => {
    const ns = `vita-bind-t${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
      const wrap = ['ip', 'netns', 'exec', ns];
      const s = await BindServer.start({ zone: 'vita.test', wrap, records: [{ name: 'www', type: 'A', value: '192.0.2.7' }] });
      try {
        expect(await s.lookup('www', 'A')).toEqual(['192.0.2.7']);
        await s.handEdit('www', 'A', ['192.0.2.8']);
        expect(dig(s, 'www.vita.test', 'A', wrap)).toEqual(['192.0.2.8']);
        // Not reachable from the host's loopback: it really is in the namespace.
        const r = spawnSync('dig', ['+time=1', '+tries=1', '-p', String(s.port), '@127.0.0.1', 'vita.test', 'SOA'], { encoding: 'utf8', timeout: 10_000 });
        expect(r.stdout).not.toMatch(/status: NOERROR/);
      } finally {
        await s.stop();
      }
      expect(existsSync(s.dir)).toBe(false);
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });
});
