import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:net';
import { ProviderError, RecordSet } from '../provider';
import { Route53Provider, Route53Settings } from './index';
import { Route53Standin, startRoute53Standin } from '../../test/route53-standin';

// AWS cannot be reached from this machine: every test here runs against the local stand-in
// (libs/dns-providers/src/test/route53-standin.ts), which the real SDK talks to over loopback.
const HERE = '(local Route 53 stand-in; AWS cannot be reached here)';
const ZONE = 'Z0STANDIN0EXAMPLE';
const ACCESS_KEY = 'AKIDSTANDIN000000001';

const none: RecordSet = { values: [], ttl: null };

async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ProviderError) return e;
    throw e;
  }
  throw new Error('expected a ProviderError, but the call resolved');
}

describe('Route53Provider', () => {
  let standin: Route53Standin;
  let secret: string;
  const providers: Route53Provider[] = [];

  async function start(opts: { pendingMs?: number; maxPerSecond?: number } = {}) {
    secret = randomBytes(20).toString('base64');
    standin = await startRoute53Standin({
      zones: { [ZONE]: 'example.com' },
      accessKeyId: ACCESS_KEY,
      secretAccessKey: secret,
      pendingMs: opts.pendingMs ?? 0,
      maxPerSecond: opts.maxPerSecond ?? 5,
    });
  }

  function provider(over: Partial<Route53Settings> = {}): Route53Provider {
    const p = new Route53Provider({
      hostedZoneId: ZONE,
      endpoint: standin.endpoint,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: secret },
      timeoutMs: 3000,
      syncTimeoutMs: 10_000,
      retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
      syncPoll: { initialMs: 100, maxMs: 300 },
      ...over,
    });
    providers.push(p);
    return p;
  }

  afterEach(async () => {
    for (const p of providers.splice(0)) p.close();
    await standin?.close();
  });

  it(`reads a name with no sets as empty A and AAAA ${HERE}`, async () => {
    await start();
    standin.edit(ZONE, 'other.example.com', 'A', { ttl: 60, values: ['192.0.2.9'] });
    await expect(provider().read('www.example.com')).resolves.toEqual({ A: none, AAAA: none });
    expect(standin.count('list')).toBe(1);
  });

  it(`creates an A set and then an AAAA set, each read back sorted and canonical ${HERE}`, async () => {
    await start();
    const p = provider();
    await p.replace('www.example.com', 'A', none, ['192.0.2.20', '192.0.2.3'], 60);
    expect(standin.recordSet(ZONE, 'www.example.com', 'A')).toMatchObject({ ttl: 60, values: ['192.0.2.20', '192.0.2.3'] });
    await p.replace('www.example.com', 'AAAA', none, ['2001:DB8:0:0::1'], 120);
    expect(standin.recordSet(ZONE, 'www.example.com', 'AAAA')).toMatchObject({ ttl: 120, values: ['2001:db8::1'] });
    await expect(p.read('www.example.com')).resolves.toEqual({
      A: { values: ['192.0.2.20', '192.0.2.3'].sort(), ttl: 60 },
      AAAA: { values: ['2001:db8::1'], ttl: 120 },
    });
    expect(standin.count('change')).toBe(2);
  });

  it(`replaces a set in one batch that deletes the exact old set and creates the new one ${HERE}`, async () => {
    await start();
    standin.edit(ZONE, 'www.example.com', 'A', { ttl: 300, values: ['192.0.2.1', '192.0.2.2'] });
    const p = provider();
    const before = await p.read('www.example.com');
    expect(before.A).toEqual({ values: ['192.0.2.1', '192.0.2.2'], ttl: 300 });
    await p.replace('www.example.com', 'A', before.A, ['192.0.2.2'], 60);
    expect(standin.recordSet(ZONE, 'www.example.com', 'A')).toMatchObject({ ttl: 60, values: ['192.0.2.2'] });
    expect(standin.count('change')).toBe(1);
  });

  it(`an empty to removes the set with the DELETE alone; nothing there and nothing wanted sends nothing ${HERE}`, async () => {
    await start();
    standin.edit(ZONE, 'www.example.com', 'AAAA', { ttl: 60, values: ['2001:db8::1'] });
    const p = provider();
    const before = await p.read('www.example.com');
    await p.replace('www.example.com', 'AAAA', before.AAAA, [], 60);
    expect(standin.recordSet(ZONE, 'www.example.com', 'AAAA')).toBeUndefined();
    expect((await p.read('www.example.com')).AAAA).toEqual({ values: [], ttl: null });
    const changes = standin.count('change');
    await p.replace('www.example.com', 'AAAA', { values: [], ttl: null }, [], 60);
    expect(standin.count('change')).toBe(changes);
  });

  it(`a from whose TTL differs from the stored one is a conflict (DELETE must match values and TTL) ${HERE}`, async () => {
    await start();
    standin.edit(ZONE, 'www.example.com', 'A', { ttl: 300, values: ['192.0.2.1'] });
    const e = await rejection(provider().replace('www.example.com', 'A', { values: ['192.0.2.1'], ttl: 60 }, ['192.0.2.7'], 60));
    expect(e.kind).toBe('conflict');
    expect(standin.recordSet(ZONE, 'www.example.com', 'A')).toMatchObject({ ttl: 300, values: ['192.0.2.1'] });
  });

  it(`replace does not resolve before the stand-in reports the change INSYNC ${HERE}`, async () => {
    await start({ pendingMs: 1200 });
    const p = provider();
    const began = performance.now();
    await p.replace('www.example.com', 'A', none, ['192.0.2.1'], 60);
    const resolvedAt = performance.now();
    const polls = standin.log.filter((e) => e.kind === 'getChange');
    expect(polls.some((e) => e.changeStatus === 'PENDING')).toBe(true);
    const insync = polls.find((e) => e.changeStatus === 'INSYNC');
    expect(insync).toBeDefined();
    expect(resolvedAt).toBeGreaterThanOrEqual(insync?.at ?? Infinity);
    expect(resolvedAt - began).toBeGreaterThanOrEqual(1200);
  });

  it(`a change still PENDING after syncTimeoutMs is 'unreachable', saying it was not INSYNC ${HERE}`, async () => {
    await start({ pendingMs: 60_000 });
    const began = performance.now();
    const e = await rejection(provider({ syncTimeoutMs: 700 }).replace('www.example.com', 'A', none, ['192.0.2.1'], 60));
    expect(e.kind).toBe('unreachable');
    expect(e.message).toMatch(/not INSYNC within 700 ms/);
    expect(performance.now() - began).toBeLessThan(700 + 3000 + 2000);
    // The change itself was made (Route 53 lists it at once); only the propagation is unconfirmed.
    expect(standin.recordSet(ZONE, 'www.example.com', 'A')).toMatchObject({ values: ['192.0.2.1'] });
  });

  it(`a hand edit between read and replace is a 'conflict' and the hand edit is kept ${HERE}`, async () => {
    await start();
    standin.edit(ZONE, 'www.example.com', 'A', { ttl: 60, values: ['192.0.2.1'] });
    const p = provider();
    const seen = await p.read('www.example.com');
    standin.edit(ZONE, 'www.example.com', 'A', { ttl: 60, values: ['198.51.100.5'] });
    const e = await rejection(p.replace('www.example.com', 'A', seen.A, ['192.0.2.2'], 60));
    expect(e.kind).toBe('conflict');
    expect(e.message).toMatch(/InvalidChangeBatch/);
    expect(e.message).not.toMatch(/\n/);
    expect(standin.recordSet(ZONE, 'www.example.com', 'A')).toMatchObject({ ttl: 60, values: ['198.51.100.5'] });
  });

  it(`creating a set that someone else created meanwhile is a 'conflict' ${HERE}`, async () => {
    await start();
    const p = provider();
    const seen = await p.read('www.example.com');
    standin.edit(ZONE, 'www.example.com', 'AAAA', { ttl: 60, values: ['2001:db8::99'] });
    const e = await rejection(p.replace('www.example.com', 'AAAA', seen.AAAA, ['2001:db8::1'], 60));
    expect(e.kind).toBe('conflict');
    expect(e.message).toMatch(/already exists/);
    expect(standin.recordSet(ZONE, 'www.example.com', 'AAAA')).toMatchObject({ values: ['2001:db8::99'] });
  });

  it(`a set stored in a non-canonical IPv6 spelling is read canonical and replaced by deleting its stored text ${HERE}`, async () => {
    await start();
    standin.edit(ZONE, 'www.example.com', 'AAAA', { ttl: 60, values: ['2001:0DB8:0000:0000:0000:0000:0000:0001'] });
    const p = provider();
    const seen = await p.read('www.example.com');
    expect(seen.AAAA).toEqual({ values: ['2001:db8::1'], ttl: 60 });
    await p.replace('www.example.com', 'AAAA', seen.AAAA, ['2001:db8::2'], 60);
    expect(standin.recordSet(ZONE, 'www.example.com', 'AAAA')).toMatchObject({ values: ['2001:db8::2'] });
  });

  it(`names with a trailing dot, upper case or a wildcard (listed as \\052) are matched exactly ${HERE}`, async () => {
    await start();
    standin.edit(ZONE, '*.example.com', 'A', { ttl: 60, values: ['192.0.2.42'] });
    standin.edit(ZONE, 'www.example.com', 'A', { ttl: 60, values: ['192.0.2.1'] });
    standin.edit(ZONE, 'www.example.com.example.com', 'A', { ttl: 60, values: ['192.0.2.77'] });
    const p = provider();
    await expect(p.read('*.Example.COM.')).resolves.toEqual({ A: { values: ['192.0.2.42'], ttl: 60 }, AAAA: none });
    const www = await p.read('WWW.example.com.');
    expect(www.A).toEqual({ values: ['192.0.2.1'], ttl: 60 });
    await p.replace('Www.Example.Com.', 'A', www.A, ['192.0.2.5'], 60);
    expect(standin.recordSet(ZONE, 'www.example.com', 'A')).toMatchObject({ values: ['192.0.2.5'] });
    expect(standin.recordSet(ZONE, 'www.example.com.example.com', 'A')).toMatchObject({ values: ['192.0.2.77'] });
  });

  it(`alias records and weighted sets of the name are a 'config' error ${HERE}`, async () => {
    await start();
    standin.edit(ZONE, 'alias.example.com', 'A', { values: [], aliasTarget: { hostedZoneId: 'Z2FDTNDATAQYW2', dnsName: 'd111111abcdef8.cloudfront.net.' } });
    standin.edit(ZONE, 'weighted.example.com', 'AAAA', { ttl: 60, values: ['2001:db8::1'], setIdentifier: 'node-a', weight: 10 });
    const p = provider();
    const alias = await rejection(p.read('alias.example.com'));
    expect(alias.kind).toBe('config');
    expect(alias.message).toMatch(/alias\.example\.com A is an alias record/);
    const weighted = await rejection(p.read('weighted.example.com'));
    expect(weighted.kind).toBe('config');
    expect(weighted.message).toMatch(/set identifier 'node-a'/);
  });

  it(`a wrong secret is 'auth' (the stand-in verifies the SigV4 signature), and the message holds no secret ${HERE}`, async () => {
    await start();
    const wrong = `${secret}x`;
    const e = await rejection(provider({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: wrong } }).read('www.example.com'));
    expect(e.kind).toBe('auth');
    expect(e.message).toMatch(/SignatureDoesNotMatch, HTTP 403/);
    expect(e.message).not.toContain(wrong);
    expect(standin.count('list')).toBe(1); // not retried
  });

  it(`an unknown access key id is 'auth' ${HERE}`, async () => {
    await start();
    const e = await rejection(provider({ credentials: { accessKeyId: 'AKIDSOMEONEELSE00001', secretAccessKey: secret } }).read('www.example.com'));
    expect(e.kind).toBe('auth');
    expect(e.message).toMatch(/InvalidClientTokenId/);
  });

  it(`credentials come from the AWS_* environment (the SDK's default chain) when none are given ${HERE}`, async () => {
    await start();
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY, token: process.env.AWS_SESSION_TOKEN };
    process.env.AWS_ACCESS_KEY_ID = ACCESS_KEY;
    process.env.AWS_SECRET_ACCESS_KEY = secret;
    delete process.env.AWS_SESSION_TOKEN;
    try {
      await expect(provider({ credentials: undefined }).read('www.example.com')).resolves.toEqual({ A: none, AAAA: none });
      process.env.AWS_SECRET_ACCESS_KEY = `${secret}x`;
      await expect(rejection(provider({ credentials: undefined }).read('www.example.com'))).resolves.toMatchObject({ kind: 'auth' });
    } finally {
      for (const [k, v] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.key], ['AWS_SESSION_TOKEN', saved.token]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it(`an unknown hosted zone is 'config' ${HERE}`, async () => {
    await start();
    const e = await rejection(provider({ hostedZoneId: 'Z0NOSUCHZONE000' }).read('www.example.com'));
    expect(e.kind).toBe('config');
    expect(e.message).toMatch(/NoSuchHostedZone/);
  });

  it(`a name outside the hosted zone is 'config' when written ${HERE}`, async () => {
    await start();
    const e = await rejection(provider().replace('www.example.org', 'A', none, ['192.0.2.1'], 60));
    expect(e.kind).toBe('config');
    expect(e.message).toMatch(/not permitted in zone/);
  });

  it(`a hung stand-in (accepts, never answers) is 'unreachable' within the bound ${HERE}`, async () => {
    await start();
    standin.hang(true);
    const began = performance.now();
    const e = await rejection(provider({ timeoutMs: 500 }).read('www.example.com'));
    const took = performance.now() - began;
    expect(e.kind).toBe('unreachable');
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(500 + 2500);
    expect(standin.count('list')).toBe(1); // a timeout is not retried (the bound would multiply)
  });

  it(`a port that accepts nothing is 'unreachable' ${HERE}`, async () => {
    await start();
    const closed: Server = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const e = await rejection(provider({ endpoint: `http://127.0.0.1:${port}` }).read('www.example.com'));
    expect(e.kind).toBe('unreachable');
    expect(e.message).toMatch(/ECONNREFUSED/);
  });

  it(`never sends more than requestsPerSecond within a second, measured at the stand-in ${HERE}`, async () => {
    await start({ maxPerSecond: 5 });
    const p = provider({ requestsPerSecond: 5 });
    const began = performance.now();
    const names = Array.from({ length: 12 }, (_, i) => `n${i}.example.com`);
    const all = await Promise.all(names.map((n) => p.read(n)));
    expect(all).toHaveLength(12);
    expect(standin.count('list')).toBe(12);
    expect(standin.log.filter((e) => e.code === 'Throttling')).toHaveLength(0);
    expect(standin.maxPerWindow(1000)).toBeLessThanOrEqual(5);
    // 12 requests at 5 per second cannot all go within two seconds.
    expect(performance.now() - began).toBeGreaterThanOrEqual(2000);
  });

  it(`a throttled answer is retried after a backoff and the call succeeds ${HERE}`, async () => {
    await start();
    standin.failNext(2, 400, 'Throttling', 'Rate exceeded');
    await expect(provider().read('www.example.com')).resolves.toEqual({ A: none, AAAA: none });
    expect(standin.log.map((e) => e.code ?? e.status)).toEqual(['Throttling', 'Throttling', 200]);
  });

  it(`HTTP 429 and PriorRequestNotComplete answers to a change are retried ${HERE}`, async () => {
    await start();
    const p = provider();
    standin.failNext(1, 429, 'TooManyRequests', 'Too Many Requests');
    await p.replace('www.example.com', 'A', none, ['192.0.2.1'], 60);
    standin.failNext(1, 400, 'PriorRequestNotComplete', 'The request was rejected because Route 53 was still processing a prior request.');
    await p.replace('www.example.com', 'A', { values: ['192.0.2.1'], ttl: 60 }, ['192.0.2.2'], 60);
    expect(standin.recordSet(ZONE, 'www.example.com', 'A')).toMatchObject({ values: ['192.0.2.2'] });
    expect(standin.log.filter((e) => e.kind === 'change').map((e) => e.status)).toEqual([429, 200, 400, 200]);
  });

  it(`throttling on every attempt ends in 'throttled' after the bounded attempts ${HERE}`, async () => {
    await start();
    standin.failNext(100, 400, 'Throttling', 'Rate exceeded');
    const e = await rejection(provider({ retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 50 } }).read('www.example.com'));
    expect(e.kind).toBe('throttled');
    expect(e.message).toMatch(/Throttling, HTTP 400/);
    expect(standin.count('list')).toBe(3);
  });

  it(`a 503 to a read is retried; a 500 to a change is 'refused' and not sent again ${HERE}`, async () => {
    await start();
    const p = provider();
    standin.failNext(1, 503, 'ServiceUnavailable', 'Service Unavailable');
    await expect(p.read('www.example.com')).resolves.toEqual({ A: none, AAAA: none });
    expect(standin.count('list')).toBe(2);
    standin.failNext(1, 500, 'InternalFailure', 'We encountered an internal error.');
    const e = await rejection(p.replace('www.example.com', 'A', none, ['192.0.2.1'], 60));
    expect(e.kind).toBe('refused');
    expect(standin.count('change')).toBe(1);
  });

  it(`close() ends a call that waits for INSYNC promptly ${HERE}`, async () => {
    await start({ pendingMs: 60_000 });
    const p = provider();
    const pending = rejection(p.replace('www.example.com', 'A', none, ['192.0.2.1'], 60));
    while (standin.count('change') === 0) await new Promise((r) => setTimeout(r, 20));
    const began = performance.now();
    p.close();
    const e = await pending;
    expect(e.kind).toBe('unreachable');
    expect(e.message).toMatch(/closed/);
    expect(performance.now() - began).toBeLessThan(1000);
  });

  it('refuses bad arguments to replace with a config error naming the field, before any request', async () => {
    await start();
    const p = provider();
    await expect(rejection(p.replace('www.example.com', 'A', none, ['2001:db8::1'], 60))).resolves.toMatchObject({ message: expect.stringMatching(/to: '2001:db8::1' is not an IPv4/) });
    await expect(rejection(p.replace('www.example.com', 'A', none, ['192.0.2.1'], -1))).resolves.toMatchObject({ message: expect.stringMatching(/ttl must be/) });
    await expect(rejection(p.replace('www.example.com', 'A', { values: ['192.0.2.1'], ttl: null }, ['192.0.2.2'], 60))).resolves.toMatchObject({ message: expect.stringMatching(/from\.ttl is required/) });
    expect(standin.count()).toBe(0);
  });
});
