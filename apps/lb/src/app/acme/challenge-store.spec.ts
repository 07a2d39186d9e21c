import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileChallengeStore, isValidToken, PEER_HOP_HEADER, PeerChallengeStore } from './challenge-store';

describe('FileChallengeStore', () => {
  let dir: string;
  let store: FileChallengeStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vita-acme-store-'));
    mkdirSync(join(dir, 'challenges'));
    store = new FileChallengeStore(join(dir, 'challenges'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('answers a pending token with its key authorization', () => {
    writeFileSync(join(dir, 'challenges', 'tok_1-A'), 'tok_1-A.thumb_print-x\n');
    expect(store.get('tok_1-A')).toBe('tok_1-A.thumb_print-x');
    expect(store.get('other')).toBeUndefined();
  });

  it('refuses path tricks and malformed tokens without touching the disk outside the folder', () => {
    writeFileSync(join(dir, 'x'), 'x.y');
    for (const t of ['../x', '..%2fx', '..', '.', '', 'a/b', 'a\\b', 'x'.repeat(129), 'a.b', 'a\0b', ' x']) {
      expect(isValidToken(t)).toBe(false);
      expect(store.get(t)).toBeUndefined();
    }
    expect(isValidToken('x'.repeat(128))).toBe(true);
  });

  it('serves neither symlinks, nor content that is not this token\'s key authorization, nor big files', () => {
    writeFileSync(join(dir, 'secret'), 'link.leak');
    symlinkSync(join(dir, 'secret'), join(dir, 'challenges', 'link'));
    writeFileSync(join(dir, 'challenges', 'wrong'), 'other.thumb');
    writeFileSync(join(dir, 'challenges', 'big'), `big.${'a'.repeat(1000)}`);
    mkdirSync(join(dir, 'challenges', 'adir'));
    for (const t of ['link', 'wrong', 'big', 'adir']) expect(store.get(t)).toBeUndefined();
  });
});

describe('PeerChallengeStore', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => {
      s.close(r);
      s.closeAllConnections();
    })));
  });

  async function listen(handler: (req: IncomingMessage, token: string) => Promise<string | undefined> | undefined): Promise<string> {
    const server = createServer(async (req, res) => {
      const token = (req.url ?? '').split('/').pop() ?? '';
      const answer = await handler(req, token);
      if (answer === undefined) res.writeHead(404).end();
      else res.writeHead(200).end(answer);
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('answers locally first, then from the peer that has the token', async () => {
    const b = await listen((_req, token) => Promise.resolve(token === 'remote' ? 'remote.kx' : undefined));
    const store = new PeerChallengeStore({ local: { get: (t) => (t === 'here' ? 'here.k' : undefined) }, peers: [b] });
    expect(store.get('remote')).toBeUndefined(); // get() is local only
    expect(await store.resolve('here')).toBe('here.k');
    expect(await store.resolve('remote')).toBe('remote.kx');
    expect(await store.resolve('nowhere')).toBeUndefined();
    expect(await store.resolve('../x')).toBeUndefined();
  });

  it('never forwards a forwarded request (two nodes pointing at each other do not loop)', async () => {
    let hits = 0;
    const stores: PeerChallengeStore[] = [];
    const a = await listen((req, token) => {
      hits++;
      return stores[0].resolve(token, req.headers);
    });
    const b = await listen((req, token) => {
      hits++;
      return stores[1].resolve(token, req.headers);
    });
    stores.push(new PeerChallengeStore({ local: { get: () => undefined }, peers: [b] }));
    stores.push(new PeerChallengeStore({ local: { get: () => undefined }, peers: [a] }));
    expect(await stores[0].resolve('missing')).toBeUndefined();
    expect(hits).toBe(1); // b answered locally and stopped
    expect(await stores[0].resolve('missing', { [PEER_HOP_HEADER]: '1' })).toBeUndefined();
    expect(hits).toBe(1);
  });

  it('gives up on a silent peer after its timeout and ignores answers that are not the key authorization', async () => {
    const silent = await listen(() => new Promise(() => undefined));
    const liar = await listen(() => Promise.resolve('<html>not it</html>'));
    const store = new PeerChallengeStore({ local: { get: () => undefined }, peers: [silent, liar], timeoutMs: 300 });
    const t0 = Date.now();
    expect(await store.resolve('tok')).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});
