import { execFileSync } from 'node:child_process';
import { BindServer } from '@vita/bind';
import { ProviderError } from '../provider';
import { Rfc2136Settings } from './client';
import { Rfc2136TxtRecords } from './txt';

const NAME = '_acme-challenge.www.vita.test';
const DIGEST = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';

/** dig as an independent oracle: the TXT records named serves for `name`, as dig prints them (sorted). */
function digTxt(server: BindServer, name: string): string[] {
  const out = execFileSync('dig', ['+tcp', '+norecurse', '+short', '+time=2', '+tries=2', '-p', String(server.port), `@${server.address}`, name, 'TXT'], { encoding: 'utf8', timeout: 15_000 });
  return out.split('\n').filter(Boolean).sort();
}

async function failure(call: Promise<unknown>): Promise<ProviderError> {
  const e = await call.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ProviderError);
  expect((e as Error).message).not.toContain('\n');
  return e as ProviderError;
}

describe('Rfc2136TxtRecords against a real BIND', () => {
  let bind: BindServer;
  const opened: Rfc2136TxtRecords[] = [];
  const settings = (over: Partial<Rfc2136Settings> = {}): Rfc2136Settings => ({
    server: { host: bind.address, port: bind.port },
    zone: bind.zone,
    key: { name: bind.key.name, algorithm: 'hmac-sha256', secret: Buffer.from(bind.key.secret, 'base64') },
    timeoutMs: 3_000,
    ...over,
  });
  const records = (over: Partial<Rfc2136Settings> = {}) => {
    const r = new Rfc2136TxtRecords(settings(over));
    opened.push(r);
    return r;
  };

  beforeAll(async () => {
    bind = await BindServer.start({ zone: 'vita.test', records: [{ name: 'www', type: 'A', value: '192.0.2.1' }] });
  });
  afterAll(async () => {
    for (const r of opened) r.close();
    await bind?.stop();
  });

  it('add publishes a value dig sees; a second value joins it; remove takes out one, then the other', async () => {
    const r = records();
    expect(r.id).toBe('rfc2136');
    await r.add(NAME, DIGEST, 60);
    expect(digTxt(bind, NAME)).toEqual([`"${DIGEST}"`]);
    await r.add(`${NAME.toUpperCase()}.`, 'second value', 60);
    expect(digTxt(bind, NAME)).toEqual([`"${DIGEST}"`, '"second value"']);
    await r.add(NAME, DIGEST, 60); // already there: BIND keeps one copy
    expect(digTxt(bind, NAME)).toEqual([`"${DIGEST}"`, '"second value"']);
    await r.remove(NAME, DIGEST);
    expect(digTxt(bind, NAME)).toEqual(['"second value"']);
    await r.remove(NAME, 'second value');
    expect(digTxt(bind, NAME)).toEqual([]);
    await r.remove(NAME, 'second value'); // not there: no error
    expect(await bind.lookup('www', 'A')).toEqual(['192.0.2.1']); // the rest of the zone untouched
    expect(await bind.waitForOutput(/updating zone 'vita\.test\/IN': adding an RR at '_acme-challenge\.www\.vita\.test' TXT/)).toBeTruthy();
  });

  it('adds at once from two writers (apex and wildcard orders, or two nodes) both land; a value over 255 bytes is split and removed whole', async () => {
    const [a, b] = [records(), records()];
    await Promise.all([a.add('_acme-challenge.vita.test', 'for-apex', 60), b.add('_acme-challenge.vita.test', 'for-wildcard', 60)]);
    expect(digTxt(bind, '_acme-challenge.vita.test')).toEqual(['"for-apex"', '"for-wildcard"']);
    await Promise.all([a.remove('_acme-challenge.vita.test', 'for-apex'), b.remove('_acme-challenge.vita.test', 'for-wildcard')]);
    expect(digTxt(bind, '_acme-challenge.vita.test')).toEqual([]);
    const long = 'x'.repeat(300);
    await a.add(NAME, long, 60);
    expect(digTxt(bind, NAME)).toEqual([`"${'x'.repeat(255)}" "${'x'.repeat(45)}"`]);
    await a.remove(NAME, long);
    expect(digTxt(bind, NAME)).toEqual([]);
  });

  it('a wrong secret is refused (auth, BADSIG) in one line without the secret; nothing is published', async () => {
    const wrong = Buffer.alloc(32, 0x5a);
    const e = await failure(records({ key: { name: bind.key.name, algorithm: 'hmac-sha256', secret: wrong } }).add(NAME, DIGEST, 60));
    expect(e.kind).toBe('auth');
    expect(e.message).toBe(`rfc2136 ${bind.address}:${bind.port}: add ${NAME} TXT failed: NOTAUTH, TSIG BADSIG (the server refused key "${bind.key.name}")`);
    for (const enc of ['base64', 'hex'] as const) expect(e.message).not.toContain(wrong.toString(enc));
    expect(digTxt(bind, NAME)).toEqual([]);
  });

  it('a name outside the zone, a value that is not printable ASCII and a bad TTL are config errors before anything is sent', async () => {
    const r = records();
    const outside = await failure(r.add('_acme-challenge.www.elsewhere.test', DIGEST, 60));
    expect([outside.kind, outside.message]).toEqual(['config', expect.stringMatching(/_acme-challenge\.www\.elsewhere\.test is not in zone vita\.test/)]);
    expect((await failure(r.add(NAME, 'line\nbreak', 60))).message).toMatch(/the value must be printable ASCII$/);
    expect((await failure(r.add(NAME, DIGEST, 1.5))).message).toMatch(/TTL 1\.5 is not an integer/);
    expect((await failure(r.remove('vita.test.evil', DIGEST))).kind).toBe('config');
  });
});
