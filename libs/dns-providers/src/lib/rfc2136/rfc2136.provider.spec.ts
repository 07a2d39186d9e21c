import { execFileSync } from 'node:child_process';
import { connect, createServer, Server, Socket } from 'node:net';
import { BindServer } from '@vita/bind';
import { ProviderError } from '../provider';
import { inZone, Rfc2136Settings, updateFailureKind } from './client';
import { Rfc2136Provider } from './rfc2136.provider';

const TIMEOUT_MS = 3_000;

/** dig as an independent oracle: the sorted rdata named serves (TCP, no recursion). */
function dig(server: BindServer, name: string, type: 'A' | 'AAAA'): string[] {
  const out = execFileSync('dig', ['+tcp', '+norecurse', '+short', '+time=2', '+tries=2', '-p', String(server.port), `@${server.address}`, name, type], { encoding: 'utf8', timeout: 15_000 });
  return out.split('\n').filter(Boolean).sort();
}

function settingsFor(server: BindServer, over: Partial<Rfc2136Settings> = {}): Rfc2136Settings {
  return {
    server: { host: server.address, port: server.port },
    zone: server.zone,
    key: { name: server.key.name, algorithm: 'hmac-sha256', secret: Buffer.from(server.key.secret, 'base64') },
    timeoutMs: TIMEOUT_MS,
    ...over,
  };
}

/** The ProviderError a call fails with; checked to be one line, naming the server, without the secret in any encoding. */
async function failure(call: Promise<unknown>, server: { host: string; port: number }, secret?: Buffer): Promise<ProviderError> {
  const e = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ProviderError);
  const pe = e as ProviderError;
  expect(pe.message).not.toContain('\n');
  expect(pe.message).toContain(`${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`);
  if (secret) for (const enc of ['base64', 'hex'] as const) expect(pe.message).not.toContain(secret.toString(enc));
  return pe;
}

const listen = (srv: Server): Promise<number> => new Promise((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
const closeServer = (srv: Server): Promise<void> => new Promise((r) => srv.close(() => r()));

/**
 * A man in the middle on loopback: forwards each request to `target` and returns its answer after `mutate`.
 * Written with plain sockets, not the provider's transport.
 */
function tamperingProxy(target: BindServer, mutate: (frame: Buffer) => Buffer): Server {
  return createServer((client) => {
    const upstream = connect(target.port, target.address);
    let back = Buffer.alloc(0);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      back = Buffer.concat([back, d]);
      if (back.length >= 2 && back.length >= 2 + back.readUInt16BE(0)) {
        const frame = mutate(Buffer.from(back.subarray(2, 2 + back.readUInt16BE(0))));
        const len = Buffer.alloc(2);
        len.writeUInt16BE(frame.length);
        client.end(Buffer.concat([len, frame]));
        upstream.destroy();
      }
    });
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    upstream.on('error', drop);
  });
}

describe('rfc2136 decisions (pure)', () => {
  it('updateFailureKind: prerequisite failures conflict, zone problems are config, other rcodes refused', () => {
    expect(updateFailureKind(0)).toBeUndefined();
    expect([7, 8, 3, 6].map(updateFailureKind)).toEqual(['conflict', 'conflict', 'conflict', 'conflict']); // YXRRSET NXRRSET NXDOMAIN YXDOMAIN
    expect([9, 10].map(updateFailureKind)).toEqual(['config', 'config']); // NOTAUTH (in a signed answer), NOTZONE
    expect([1, 2, 4, 5, 11].map(updateFailureKind)).toEqual(['refused', 'refused', 'refused', 'refused', 'refused']);
  });

  it('inZone: the apex and names below it, case and trailing dot ignored; look-alike suffixes are outside', () => {
    expect(inZone('vita.test', 'vita.test')).toBe(true);
    expect(inZone('WWW.Vita.Test.', 'vita.test')).toBe(true);
    expect(inZone('a.b.vita.test', 'vita.test.')).toBe(true);
    expect(inZone('evilvita.test', 'vita.test')).toBe(false);
    expect(inZone('vita.test.evil', 'vita.test')).toBe(false);
  });
});

describe('Rfc2136Provider against a real BIND', () => {
  let bind: BindServer;
  const cleanups: Array<() => Promise<void> | void> = [];
  beforeAll(async () => {
    bind = await BindServer.start({
      zone: 'vita.test',
      records: [
        { name: 'www', type: 'A', value: '192.0.2.2', ttl: 60 },
        { name: 'www', type: 'A', value: '192.0.2.1', ttl: 60 },
        { name: 'www', type: 'AAAA', value: '2001:db8::1', ttl: 60 },
      ],
    });
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
    await bind?.stop();
  });
  const provider = (over: Partial<Rfc2136Settings> = {}, now?: () => number) => {
    const p = new Rfc2136Provider(settingsFor(bind, over), { now });
    cleanups.push(() => p.close());
    return p;
  };

  it('read() returns the A and AAAA sets BIND serves (sorted, canonical, with TTL) and empty sets for an absent name', async () => {
    const got = await provider().read('www.vita.test');
    expect(got).toEqual({ A: { values: dig(bind, 'www.vita.test', 'A'), ttl: 60 }, AAAA: { values: ['2001:db8::1'], ttl: 60 } });
    expect(got.A.values).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(await provider().read('absent.vita.test')).toEqual({ A: { values: [], ttl: null }, AAAA: { values: [], ttl: null } });
    expect(provider().id).toBe('rfc2136');
    expect(provider({ id: 'bind-primary' }).id).toBe('bind-primary');
  });

  it('replace() changes an A set; BIND serves the new set and TTL (node:dns and dig agree)', async () => {
    const p = provider();
    const from = (await p.read('www.vita.test')).A;
    await p.replace('www.vita.test', 'A', from, ['192.0.2.4', '192.0.2.3'], 30);
    expect(await bind.lookup('www', 'A')).toEqual(['192.0.2.3', '192.0.2.4']);
    expect(dig(bind, 'www.vita.test', 'A')).toEqual(['192.0.2.3', '192.0.2.4']);
    expect(await bind.ttl('www', 'A')).toBe(30);
    expect((await p.read('www.vita.test')).A).toEqual({ values: ['192.0.2.3', '192.0.2.4'], ttl: 30 });
    expect(await bind.lookup('www', 'AAAA')).toEqual(['2001:db8::1']);
    expect(await bind.waitForOutput(/updating zone 'vita\.test\/IN': adding an RR at 'www\.vita\.test' A 192\.0\.2\.3/)).toBeTruthy();
  });

  it('replace() with an empty set removes it (the prerequisite still guards it); BIND serves no such set', async () => {
    const p = provider();
    await bind.handEdit('gone', 'AAAA', ['2001:db8::7'], 60);
    const from = (await p.read('gone.vita.test')).AAAA;
    expect(from.values).toEqual(['2001:db8::7']);
    await expect(failure(p.replace('gone.vita.test', 'AAAA', { values: ['2001:db8::8'], ttl: 60 }, [], 60), { host: bind.address, port: bind.port })).resolves.toMatchObject({ kind: 'conflict' });
    await p.replace('gone.vita.test', 'AAAA', from, [], 60);
    expect(await bind.lookup('gone', 'AAAA')).toEqual([]);
    expect(dig(bind, 'gone.vita.test', 'AAAA')).toEqual([]);
  });

  it('replace() of AAAA: creates a set that does not exist (from []), then replaces it; values are canonical', async () => {
    const p = provider();
    await p.replace('v6.vita.test', 'AAAA', { values: [], ttl: null }, ['2001:DB8:0:0::10', '2001:db8::9'], 45);
    expect(await bind.lookup('v6', 'AAAA')).toEqual(['2001:db8::10', '2001:db8::9']);
    expect(dig(bind, 'v6.vita.test', 'AAAA')).toEqual(['2001:db8::10', '2001:db8::9']);
    const now = (await p.read('v6.vita.test')).AAAA;
    expect(now).toEqual({ values: ['2001:db8::10', '2001:db8::9'], ttl: 45 });
    await p.replace('v6.vita.test', 'AAAA', now, ['2001:db8::11'], 45);
    expect(dig(bind, 'v6.vita.test', 'AAAA')).toEqual(['2001:db8::11']);
  });

  it('"does not exist" prerequisite: a set that now exists is a conflict (YXRRSET) and stays as it is', async () => {
    const p = provider();
    await bind.handEdit('taken', 'A', ['192.0.2.50']);
    const e = await failure(p.replace('taken.vita.test', 'A', { values: [], ttl: null }, ['192.0.2.51'], 60), { host: bind.address, port: bind.port });
    expect(e.kind).toBe('conflict');
    expect(e.message).toMatch(/YXRRSET/);
    expect(dig(bind, 'taken.vita.test', 'A')).toEqual(['192.0.2.50']);
  });

  it('a hand edit between read and replace: the conditional update is refused as a conflict (NXRRSET) and BIND keeps the hand edit', async () => {
    const p = provider();
    await p.replace('edit.vita.test', 'A', { values: [], ttl: null }, ['192.0.2.10'], 60);
    const before = (await p.read('edit.vita.test')).A;
    expect(before.values).toEqual(['192.0.2.10']);
    await bind.handEdit('edit', 'A', ['192.0.2.99']);
    const e = await failure(p.replace('edit.vita.test', 'A', before, ['192.0.2.11'], 60), { host: bind.address, port: bind.port });
    expect(e.kind).toBe('conflict');
    expect(e.message).toBe(`rfc2136 ${bind.address}:${bind.port}: update edit.vita.test A failed: NXRRSET (the server no longer serves the expected set)`);
    expect(await bind.lookup('edit', 'A')).toEqual(['192.0.2.99']);
    expect(dig(bind, 'edit.vita.test', 'A')).toEqual(['192.0.2.99']);
  });

  it('a wrong secret is refused by BIND (BADSIG, logged) and reported as auth; nothing changes', async () => {
    const wrong = Buffer.alloc(32, 0x77);
    const p = provider({ key: { name: bind.key.name, algorithm: 'hmac-sha256', secret: wrong } });
    const before = dig(bind, 'www.vita.test', 'A');
    const e = await failure(p.replace('www.vita.test', 'A', { values: before, ttl: 30 }, ['192.0.2.66'], 60), { host: bind.address, port: bind.port }, wrong);
    expect(e.kind).toBe('auth');
    expect(e.message).toMatch(/NOTAUTH, TSIG BADSIG/);
    expect(dig(bind, 'www.vita.test', 'A')).toEqual(before);
    expect(await bind.waitForOutput(/request has invalid signature: TSIG vita-update: tsig verify failure \(BADSIG\)/)).toBeTruthy();
    const r = await failure(p.read('www.vita.test'), { host: bind.address, port: bind.port }, wrong);
    expect(r.kind).toBe('auth');
  });

  it('an unknown key name (BADKEY) and a clock outside the fudge (BADTIME) are auth errors; nothing changes', async () => {
    const before = dig(bind, 'www.vita.test', 'A');
    const secret = Buffer.from(bind.key.secret, 'base64');
    const unknown = provider({ key: { name: 'no-such-key', algorithm: 'hmac-sha256', secret } });
    const e1 = await failure(unknown.replace('www.vita.test', 'A', { values: before, ttl: 30 }, ['192.0.2.67'], 60), { host: bind.address, port: bind.port }, secret);
    expect([e1.kind, e1.message]).toEqual(['auth', expect.stringMatching(/BADKEY/)]);
    const skewed = provider({}, () => Date.now() - 3_600_000);
    const e2 = await failure(skewed.replace('www.vita.test', 'A', { values: before, ttl: 30 }, ['192.0.2.68'], 60), { host: bind.address, port: bind.port }, secret);
    expect([e2.kind, e2.message]).toEqual(['auth', expect.stringMatching(/BADTIME/)]);
    expect(dig(bind, 'www.vita.test', 'A')).toEqual(before);
  });

  it('a zone BIND does not serve, and a name outside the zone, are config errors', async () => {
    const other = provider({ zone: 'elsewhere.test' });
    const e = await failure(other.replace('www.elsewhere.test', 'A', { values: [], ttl: null }, ['192.0.2.1'], 60), { host: bind.address, port: bind.port });
    expect(e.kind).toBe('config');
    expect(e.message).toMatch(/NOTAUTH \(the server is not authoritative for the zone\)/);
    expect(await bind.waitForOutput(/update failed: elsewhere\.test: not authoritative for update zone \(NOTAUTH\)/)).toBeTruthy();
    const outside = await failure(provider().replace('www.elsewhere.test', 'A', { values: [], ttl: null }, ['192.0.2.1'], 60), { host: bind.address, port: bind.port });
    expect(outside.kind).toBe('config');
    expect(outside.message).toMatch(/www\.elsewhere\.test is not in zone vita\.test/);
    expect((await failure(provider().read('vita.test.evil'), { host: bind.address, port: bind.port })).kind).toBe('config');
    const read = await failure(other.read('www.elsewhere.test'), { host: bind.address, port: bind.port });
    expect([read.kind, read.message]).toEqual(['refused', expect.stringMatching(/REFUSED \(does it serve zone elsewhere\.test\?\)/)]);
  });

  it('bad values are config errors before anything is sent', async () => {
    const p = provider();
    expect((await failure(p.replace('www.vita.test', 'A', { values: [], ttl: null }, ['2001:db8::1'], 60), { host: bind.address, port: bind.port })).kind).toBe('config');
    expect(() => new Rfc2136Provider(settingsFor(bind, { timeoutMs: 0 }))).toThrow('rfc2136: settings.timeoutMs 0 is not a positive number of ms');
    expect(() => new Rfc2136Provider(settingsFor(bind, { server: { host: '127.0.0.1', port: 70000 } }))).toThrow('settings.server.port 70000 is not a port');
  });

  it('a response whose MAC was tampered with is rejected (auth), as is a tampered header and a stripped signature', async () => {
    const secret = Buffer.from(bind.key.secret, 'base64');
    // With no TSIG error, the RDATA ends: MAC (32) | original id (2) | error (2) | other len (2) = 0.
    const flipMac = (f: Buffer) => {
      expect(f.readUInt16BE(f.length - 2)).toBe(0);
      f[f.length - 6 - 1] ^= 0x01;
      return f;
    };
    const flipRa = (f: Buffer) => {
      f[3] ^= 0x80;
      return f;
    };
    for (const [mutate, reason] of [
      [flipMac, /TSIG does not verify: the MAC does not verify/],
      [flipRa, /TSIG does not verify: the MAC does not verify/],
    ] as const) {
      const proxy = tamperingProxy(bind, mutate);
      const port = await listen(proxy);
      cleanups.push(() => closeServer(proxy));
      const e = await failure(provider({ server: { host: '127.0.0.1', port } }).read('www.vita.test'), { host: '127.0.0.1', port }, secret);
      expect([e.kind, e.message]).toEqual(['auth', expect.stringMatching(reason)]);
    }
    // Sanity: the same proxy without tampering passes the answer through and it verifies.
    const honest = tamperingProxy(bind, (f) => f);
    const port = await listen(honest);
    cleanups.push(() => closeServer(honest));
    expect((await provider({ server: { host: '127.0.0.1', port } }).read('www.vita.test')).A.values).toEqual(dig(bind, 'www.vita.test', 'A'));
    // Stripped: the TSIG record (the last one, owned by the key name, uncompressed) removed, ARCOUNT decremented.
    let stripped = false;
    const strip = tamperingProxy(bind, (f) => {
      const at = f.lastIndexOf(Buffer.from(`\x0b${bind.key.name}\x00\x00\xfa`, 'latin1'));
      if (at < 0) return f;
      stripped = true;
      const out = Buffer.from(f.subarray(0, at));
      out.writeUInt16BE(f.readUInt16BE(10) - 1, 10);
      return out;
    });
    const sport = await listen(strip);
    cleanups.push(() => closeServer(strip));
    const e = await failure(provider({ server: { host: '127.0.0.1', port: sport } }).read('www.vita.test'), { host: '127.0.0.1', port: sport }, secret);
    expect([e.kind, e.message]).toEqual(['auth', expect.stringMatching(/the answer is not signed/)]);
    expect(stripped).toBe(true);
  });

  it('a TCP server that accepts and never answers: unreachable within the bound, and the socket is closed', async () => {
    const seen: Socket[] = [];
    const closed: Promise<void>[] = [];
    const hung = createServer((s) => {
      seen.push(s);
      closed.push(new Promise((r) => s.once('close', () => r())));
      s.on('error', () => undefined);
      s.resume(); // read (and drop) what comes, so the peer's FIN is seen
    });
    const port = await listen(hung);
    cleanups.push(() => {
      seen.forEach((s) => s.destroy());
      return closeServer(hung);
    });
    const p = provider({ server: { host: '127.0.0.1', port }, timeoutMs: 500 });
    const t0 = Date.now();
    const e = await failure(p.replace('www.vita.test', 'A', { values: [], ttl: null }, ['192.0.2.1'], 60), { host: '127.0.0.1', port });
    const took = Date.now() - t0;
    expect([e.kind, e.message]).toEqual(['unreachable', expect.stringMatching(/no answer within 500 ms/)]);
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(5_000);
    expect(seen).toHaveLength(1);
    let timer: NodeJS.Timeout | undefined;
    const leftOpen = new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('the provider left the socket open')), 5_000)));
    await Promise.race([closed[0], leftOpen]).finally(() => clearTimeout(timer));
  });

  it('close() ends an exchange in flight at once (unreachable) instead of waiting for the bound', async () => {
    const accepted: Socket[] = [];
    const hung = createServer((s) => {
      accepted.push(s);
      s.on('error', () => undefined);
      s.resume();
    });
    const port = await listen(hung);
    cleanups.push(() => {
      accepted.forEach((s) => s.destroy());
      return closeServer(hung);
    });
    const p = new Rfc2136Provider(settingsFor(bind, { server: { host: '127.0.0.1', port }, timeoutMs: 30_000 }));
    const pending = failure(p.read('www.vita.test'), { host: '127.0.0.1', port });
    for (let i = 0; i < 200 && accepted.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(accepted).toHaveLength(2); // A and AAAA, in parallel
    const t0 = Date.now();
    p.close();
    const e = await pending;
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect([e.kind, e.message]).toEqual(['unreachable', expect.stringMatching(/the connection closed before a whole answer/)]);
  });

  it('a refused connection is unreachable', async () => {
    const gone = createServer();
    const port = await listen(gone);
    await closeServer(gone);
    const e = await failure(provider({ server: { host: '127.0.0.1', port } }).read('www.vita.test'), { host: '127.0.0.1', port });
    expect([e.kind, e.message]).toEqual(['unreachable', expect.stringMatching(/ECONNREFUSED/)]);
  });

  it('works with a BIND on ::1 (IPv6 transport)', async () => {
    const v6 = await BindServer.start({ zone: 'six.test', address: '::1', keyName: 'six-key', records: [{ name: 'www', type: 'AAAA', value: '2001:db8::6' }] });
    cleanups.push(() => v6.stop());
    const p = new Rfc2136Provider(settingsFor(v6));
    const now = await p.read('www.six.test');
    expect(now.AAAA.values).toEqual(['2001:db8::6']);
    await p.replace('www.six.test', 'AAAA', now.AAAA, ['2001:db8::7'], 60);
    expect(dig(v6, 'www.six.test', 'AAAA')).toEqual(['2001:db8::7']);
    const e = await failure(p.replace('www.six.test', 'AAAA', now.AAAA, ['2001:db8::8'], 60), { host: '::1', port: v6.port });
    expect(e.message).toMatch(new RegExp(`^rfc2136 \\[::1\\]:${v6.port}: update www.six.test AAAA failed: NXRRSET`));
  });
});
