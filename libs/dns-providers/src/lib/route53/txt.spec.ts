import { randomBytes } from 'node:crypto';
import { ProviderError } from '../provider';
import { Route53Standin, startRoute53Standin, txtValueProblem } from '../../test/route53-standin';
import { Route53Settings } from './settings';
import { quoteTxt, Route53TxtRecords, txtChanges, txtSetOf, unquoteTxt } from './txt';

// AWS cannot be reached from this machine: the Route53TxtRecords tests run against the local
// stand-in (libs/dns-providers/src/test/route53-standin.ts), which the real SDK talks to over loopback.
const HERE = '(local Route 53 stand-in; AWS cannot be reached here)';
const ZONE = 'Z0STANDIN0TXT';
const ACCESS_KEY = 'AKIDSTANDIN000000002';
const NAME = '_acme-challenge.www.example.com';
const DIGEST = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0';

async function rejection(p: Promise<unknown>): Promise<ProviderError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ProviderError) return e;
    throw e;
  }
  throw new Error('expected a ProviderError, but the call resolved');
}

describe('Route 53 TXT values (pure)', () => {
  it('quoteTxt puts each character-string of 255 at most in quotes, escaping " and \\', () => {
    expect(quoteTxt(DIGEST)).toBe(`"${DIGEST}"`);
    expect(quoteTxt('a "b" \\c')).toBe('"a \\"b\\" \\\\c"');
    expect(quoteTxt('x'.repeat(300))).toBe(`"${'x'.repeat(255)}" "${'x'.repeat(45)}"`);
    expect(quoteTxt('')).toBe('""');
  });

  it('unquoteTxt reads what Route 53 lists back (quoted strings, escapes, octal), the inverse of quoteTxt', () => {
    for (const v of [DIGEST, 'a "b" \\c', 'x'.repeat(300), '', 'two words']) expect(unquoteTxt(quoteTxt(v))).toBe(v);
    expect(unquoteTxt('"abc" "def"')).toBe('abcdef');
    expect(unquoteTxt('"a\\040b"')).toBe('a b');
    expect(unquoteTxt('plain')).toBe('plain');
    expect(unquoteTxt('"unclosed')).toBeUndefined();
    expect(unquoteTxt('"trailing\\')).toBeUndefined();
  });

  it('txtSetOf finds the plain TXT set of the name, and refuses one it must not touch', () => {
    const listed = [
      { Name: 'www.example.com.', Type: 'A' as const, TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] },
      { Name: `${NAME}.`, Type: 'TXT' as const, TTL: 60, ResourceRecords: [{ Value: '"a"' }, { Value: '"b"' }] },
    ];
    expect(txtSetOf(NAME, listed)).toEqual({ values: ['"a"', '"b"'], ttl: 60 });
    expect(txtSetOf('other.example.com', listed)).toBeUndefined();
    expect(() => txtSetOf(NAME, [{ ...listed[1], SetIdentifier: 'w1', Weight: 1 }])).toThrow(/routing policy/);
    expect(() => txtSetOf(NAME, [{ Name: `${NAME}.`, Type: 'TXT', AliasTarget: { HostedZoneId: 'Z', DNSName: 'x.', EvaluateTargetHealth: false } }])).toThrow(/alias/);
  });

  it('txtChanges: DELETE the set as read, then CREATE the new one; DELETE alone when nothing stays', () => {
    expect(txtChanges(NAME, undefined, ['"a"'], 60)).toEqual([{ Action: 'CREATE', ResourceRecordSet: { Name: `${NAME}.`, Type: 'TXT', TTL: 60, ResourceRecords: [{ Value: '"a"' }] } }]);
    expect(txtChanges(NAME, { values: ['"a"'], ttl: 30 }, ['"a"', '"b"'], 60).map((c) => [c.Action, c.ResourceRecordSet?.TTL, c.ResourceRecordSet?.ResourceRecords?.length])).toEqual([
      ['DELETE', 30, 1],
      ['CREATE', 60, 2],
    ]);
    expect(txtChanges(NAME, { values: ['"a"'], ttl: 30 }, [], 60).map((c) => c.Action)).toEqual(['DELETE']);
  });

  it(`the stand-in refuses TXT values that are not quoted, or strings over 255 characters, as Route 53 does ${HERE}`, () => {
    expect(txtValueProblem('"ok" "fine"')).toBeUndefined();
    expect(txtValueProblem('"esc \\" aped"')).toBeUndefined();
    expect(txtValueProblem('unquoted')).toMatch(/InvalidCharacterString \(Value should be enclosed in quotation marks\)/);
    expect(txtValueProblem(`"${'x'.repeat(256)}"`)).toMatch(/CharacterStringTooLong/);
  });
});

describe('Route53TxtRecords', () => {
  let standin: Route53Standin;
  let secret: string;
  const opened: Route53TxtRecords[] = [];

  async function start(opts: { pendingMs?: number; maxPerSecond?: number } = {}) {
    secret = randomBytes(20).toString('base64');
    standin = await startRoute53Standin({ zones: { [ZONE]: 'example.com' }, accessKeyId: ACCESS_KEY, secretAccessKey: secret, pendingMs: opts.pendingMs ?? 0, maxPerSecond: opts.maxPerSecond ?? 50 });
  }

  function records(over: Partial<Route53Settings> = {}): Route53TxtRecords {
    const r = new Route53TxtRecords({
      hostedZoneId: ZONE,
      endpoint: standin.endpoint,
      credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: secret },
      timeoutMs: 3000,
      syncTimeoutMs: 10_000,
      retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
      syncPoll: { initialMs: 100, maxMs: 300 },
      ...over,
    });
    opened.push(r);
    return r;
  }

  afterEach(async () => {
    for (const r of opened.splice(0)) r.close();
    await standin?.close();
  });

  it(`add puts the value in quotes; a second value joins the set, a repeated one changes nothing; remove takes one out, then the set ${HERE}`, async () => {
    await start();
    const r = records();
    expect(r.id).toBe('route53');
    await r.add(NAME, DIGEST, 60);
    expect(standin.recordSet(ZONE, NAME, 'TXT')).toMatchObject({ ttl: 60, values: [`"${DIGEST}"`] });
    await r.add(`${NAME.toUpperCase()}.`, 'second', 60);
    expect(standin.recordSet(ZONE, NAME, 'TXT')?.values.sort()).toEqual([`"${DIGEST}"`, '"second"']);
    const changes = standin.count('change');
    await r.add(NAME, DIGEST, 60);
    expect(standin.count('change')).toBe(changes);
    await r.remove(NAME, DIGEST);
    expect(standin.recordSet(ZONE, NAME, 'TXT')).toMatchObject({ values: ['"second"'] });
    await r.remove(NAME, 'second');
    expect(standin.recordSet(ZONE, NAME, 'TXT')).toBeUndefined();
    await r.remove(NAME, 'second'); // not there: nothing to do, no error
    expect(standin.count('change')).toBe(changes + 2);
  });

  it(`values with quotes, backslashes and over 255 characters are stored as Route 53 wants and removed again ${HERE}`, async () => {
    await start();
    const r = records();
    const odd = `say "hi" \\ ${'z'.repeat(300)}`;
    await r.add(NAME, odd, 60);
    const stored = standin.recordSet(ZONE, NAME, 'TXT')?.values ?? [];
    expect(stored).toEqual([quoteTxt(odd)]);
    expect(stored[0]).toMatch(/^"say \\"hi\\" \\\\ z+" "z+"$/);
    await r.remove(NAME, odd);
    expect(standin.recordSet(ZONE, NAME, 'TXT')).toBeUndefined();
  });

  it(`add does not resolve before the change is INSYNC ${HERE}`, async () => {
    await start({ pendingMs: 800 });
    const began = performance.now();
    await records().add(NAME, DIGEST, 60);
    const polls = standin.log.filter((e) => e.kind === 'getChange');
    expect(polls.some((e) => e.changeStatus === 'PENDING')).toBe(true);
    expect(polls.some((e) => e.changeStatus === 'INSYNC')).toBe(true);
    expect(performance.now() - began).toBeGreaterThanOrEqual(800);
  });

  it(`two writers adding at once (two nodes, or apex and wildcard) both end up in the set; a refused batch is read again and retried ${HERE}`, async () => {
    await start();
    const a = records();
    const b = records();
    await Promise.all([a.add(NAME, 'from-a', 60), b.add(NAME, 'from-b', 60), a.add(NAME, 'from-a2', 60)]);
    expect(standin.recordSet(ZONE, NAME, 'TXT')?.values.sort()).toEqual(['"from-a"', '"from-a2"', '"from-b"']);
    await Promise.all([a.remove(NAME, 'from-a'), b.remove(NAME, 'from-b')]);
    expect(standin.recordSet(ZONE, NAME, 'TXT')?.values).toEqual(['"from-a2"']);
    // A hand edit between read and batch: the DELETE of the old set no longer matches, so it reads again.
    standin.edit(ZONE, NAME, 'TXT', { ttl: 60, values: ['"from-a2"', '"by-hand"'] });
    await a.remove(NAME, 'from-a2');
    expect(standin.recordSet(ZONE, NAME, 'TXT')?.values).toEqual(['"by-hand"']);
  });

  it(`a refused signature is 'auth', in one line without the secret ${HERE}`, async () => {
    await start();
    const wrong = randomBytes(20).toString('base64');
    const e = await rejection(records({ credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: wrong } }).add(NAME, DIGEST, 60));
    expect(e.kind).toBe('auth');
    expect(e.message).toMatch(/^route53 ListResourceRecordSets _acme-challenge\.www\.example\.com: the credentials were refused \(SignatureDoesNotMatch, HTTP 403\)/);
    expect(e.message).not.toContain('\n');
    expect(e.message).not.toContain(wrong);
    expect(standin.recordSet(ZONE, NAME, 'TXT')).toBeUndefined();
  });

  it(`a name outside the hosted zone, a bad value and a bad TTL are 'config' errors ${HERE}`, async () => {
    await start();
    const r = records();
    const outside = await rejection(r.add('_acme-challenge.example.org', DIGEST, 60));
    expect([outside.kind, outside.message]).toEqual(['config', expect.stringMatching(/not permitted in zone example\.com/)]);
    expect((await rejection(r.add(NAME, 'tab\t', 60))).message).toBe(`route53 add ${NAME} TXT: the value must be printable ASCII`);
    expect((await rejection(r.add(NAME, DIGEST, -1))).kind).toBe('config');
    expect((await rejection(r.remove('', DIGEST))).kind).toBe('config');
  });
});
