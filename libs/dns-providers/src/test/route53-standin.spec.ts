import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { maxInWindow, parseXml, Route53Standin, startRoute53Standin, storedName } from './route53-standin';

// AWS cannot be reached from this machine; these tests check the local stand-in itself, with the
// real SDK as the client (its SigV4 signer and XML parser are the oracle).
const HERE = '(local Route 53 stand-in; AWS cannot be reached here)';
const ZONE = 'Z0STANDIN0EXAMPLE';
const KEY = 'AKIDSTANDIN000000001';
const SECRET = 'stand-in-secret-not-a-real-one';

describe('route53 stand-in', () => {
  let standin: Route53Standin;
  const clients: Route53Client[] = [];

  function client(tamper?: (req: { query: Record<string, string>; body: unknown }) => void): Route53Client {
    const c = new Route53Client({
      region: 'us-east-1',
      endpoint: standin.endpoint,
      credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
      maxAttempts: 1,
    });
    if (tamper) {
      // Runs after the signer: the request on the wire no longer matches its signature.
      c.middlewareStack.addRelativeTo(
        <A extends object, R>(next: (args: A) => R) => (args: A) => {
          tamper((args as { request?: unknown }).request as { query: Record<string, string>; body: unknown });
          return next(args);
        },
        { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'tamperAfterSigning' },
      );
    }
    clients.push(c);
    return c;
  }

  beforeEach(async () => {
    standin = await startRoute53Standin({ zones: { [ZONE]: 'example.com' }, accessKeyId: KEY, secretAccessKey: SECRET, maxPerSecond: 100 });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await standin.close();
  });

  const create = (name: string, value: string) => ({
    Action: 'CREATE' as const,
    ResourceRecordSet: { Name: name, Type: 'A' as const, TTL: 60, ResourceRecords: [{ Value: value }] },
  });

  it(`accepts the SDK's signed requests and answers in XML the SDK parses ${HERE}`, async () => {
    const c = client();
    const out = await c.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: ZONE, ChangeBatch: { Changes: [create('a.example.com', '192.0.2.1')] } }));
    expect(out.ChangeInfo?.Id).toMatch(/^\/change\/C[0-9A-F]+$/);
    const got = await c.send(new GetChangeCommand({ Id: out.ChangeInfo?.Id }));
    expect(got.ChangeInfo?.Status).toBe('INSYNC');
    const list = await c.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, StartRecordName: 'a.example.com.', StartRecordType: 'A', MaxItems: 5 }));
    expect(list.ResourceRecordSets).toEqual([{ Name: 'a.example.com.', Type: 'A', TTL: 60, ResourceRecords: [{ Value: '192.0.2.1' }] }]);
  });

  it(`rejects a request whose query was changed after signing ${HERE}`, async () => {
    const c = client((req) => {
      req.query.maxitems = '7';
    });
    await expect(c.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, StartRecordName: 'a.example.com.', MaxItems: 5 }))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
  });

  it(`rejects a request whose body was changed after signing ${HERE}`, async () => {
    const c = client((req) => {
      req.body = String(req.body).replace('192.0.2.1', '192.0.2.9');
    });
    await expect(c.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: ZONE, ChangeBatch: { Changes: [create('a.example.com', '192.0.2.1')] } }))).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    });
    expect(standin.recordSet(ZONE, 'a.example.com', 'A')).toBeUndefined();
  });

  it(`applies a batch all or nothing, with AWS's InvalidChangeBatch messages ${HERE}`, async () => {
    standin.edit(ZONE, 'b.example.com', 'A', { ttl: 60, values: ['192.0.2.2'] });
    const c = client();
    const batch = {
      HostedZoneId: ZONE,
      ChangeBatch: {
        Changes: [
          create('a.example.com', '192.0.2.1'),
          { Action: 'DELETE' as const, ResourceRecordSet: { Name: 'b.example.com', Type: 'A' as const, TTL: 300, ResourceRecords: [{ Value: '192.0.2.2' }] } },
          create('b.example.com', '192.0.2.3'),
        ],
      },
    };
    const failure = await c.send(new ChangeResourceRecordSetsCommand(batch)).catch((e: Error) => e);
    expect(failure).toMatchObject({ name: 'InvalidChangeBatch', $metadata: { httpStatusCode: 400 } });
    expect((failure as Error).message).toBe(
      "[Tried to delete resource record set [name='b.example.com.', type='A'] but the values provided do not match the current values, " +
        "Tried to create resource record set [name='b.example.com.', type='A'] but it already exists]",
    );
    expect(standin.recordSet(ZONE, 'a.example.com', 'A')).toBeUndefined();
    expect(standin.recordSet(ZONE, 'b.example.com', 'A')).toMatchObject({ ttl: 60, values: ['192.0.2.2'] });
  });

  it(`answers Throttling (400, "Rate exceeded") past its per-second limit ${HERE}`, async () => {
    await standin.close();
    standin = await startRoute53Standin({ zones: { [ZONE]: 'example.com' }, accessKeyId: KEY, secretAccessKey: SECRET, maxPerSecond: 2 });
    const c = client();
    const list = () => c.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE })).then(() => 'ok', (e: Error) => e.name);
    const results = await Promise.all([list(), list(), list(), list()]);
    expect(results.filter((r) => r === 'ok')).toHaveLength(2);
    expect(results.filter((r) => r === 'Throttling')).toHaveLength(2);
  });

  it(`keeps a change PENDING for pendingMs, then INSYNC ${HERE}`, async () => {
    standin.setPendingMs(400);
    const c = client();
    const out = await c.send(new ChangeResourceRecordSetsCommand({ HostedZoneId: ZONE, ChangeBatch: { Changes: [create('a.example.com', '192.0.2.1')] } }));
    expect(out.ChangeInfo?.Status).toBe('PENDING');
    await new Promise((r) => setTimeout(r, 450));
    await expect(c.send(new GetChangeCommand({ Id: out.ChangeInfo?.Id }))).resolves.toMatchObject({ ChangeInfo: { Status: 'INSYNC' } });
  });

  it(`answers NoSuchHostedZone (404) for an unknown zone ${HERE}`, async () => {
    await expect(client().send(new ListResourceRecordSetsCommand({ HostedZoneId: 'ZNOPE' }))).rejects.toMatchObject({
      name: 'NoSuchHostedZone',
      $metadata: { httpStatusCode: 404 },
    });
  });
});

describe('route53 stand-in helpers', () => {
  it('parseXml reads nested elements and entities, and refuses mismatched tags', () => {
    const doc = parseXml('<?xml version="1.0"?><A x="1"><B>1 &amp; 2</B><C/><B>&#x41;</B></A>');
    expect(doc.children[0].name).toBe('A');
    expect(doc.children[0].children.map((c) => [c.name, c.text])).toEqual([
      ['B', '1 & 2'],
      ['C', ''],
      ['B', 'A'],
    ]);
    expect(() => parseXml('<A><B></A></B>')).toThrow(/unexpected <\/A>/);
    expect(() => parseXml('<A>')).toThrow(/unclosed <A>/);
  });

  it('storedName lower-cases, adds the trailing dot and escapes * as \\052', () => {
    expect(storedName('*.Example.COM')).toBe('\\052.example.com.');
    expect(storedName('\\052.example.com.')).toBe('\\052.example.com.');
  });

  it('maxInWindow counts the busiest half-open window', () => {
    expect(maxInWindow([0, 999, 1000, 1500, 1999], 1000)).toBe(3);
    expect(maxInWindow([0, 1000, 2000], 1000)).toBe(1);
    expect(maxInWindow([], 1000)).toBe(0);
  });
});
