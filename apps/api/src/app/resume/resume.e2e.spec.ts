import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { validateResume } from '@vita/contracts';
import { sampleResume } from '@vita/testing';
import { createConnection, Connection } from 'mariadb';
import { randomBytes } from 'node:crypto';
import { apiEnv, ApiDatabases, eventually, startApi, startApiDatabases } from '../../test/api-stack';

describe('résumé api on a real primary and replicas', () => {
  let dbs: ApiDatabases;
  let app: NestFastifyApplication;
  const sample = sampleResume();

  const put = (payload: string | object, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'PUT',
      url: '/api/v1/resume',
      headers: { authorization: `Bearer ${dbs.adminToken}`, 'content-type': 'application/json', ...headers },
      payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  const putTo = (target: NestFastifyApplication, headers: Record<string, string> = {}, payload: object = sample) =>
    target.inject({
      method: 'PUT',
      url: '/api/v1/resume',
      headers: { authorization: `Bearer ${dbs.adminToken}`, 'content-type': 'application/json', ...headers },
      payload: JSON.stringify(payload),
    });
  const get = (url = '/api/v1/resume', headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers });
  const storedVersion = async (): Promise<number> => {
    const [row] = await dbs.topology.primary.query<{ version: number }[]>('SELECT version FROM vita.resume_state WHERE id = 1');
    return Number(row.version);
  };

  beforeAll(async () => {
    dbs = await startApiDatabases(2);
    app = await startApi(apiEnv(dbs));
  });
  afterAll(async () => {
    await app?.close();
    await dbs?.topology.close();
  });

  it('serves an empty document before anything is stored', async () => {
    const res = await get();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({});
    expect(res.headers.etag).toBe('"v0"');
  });

  it('PUT stores a complete résumé; GET through the local replica returns exactly it once replicated', async () => {
    expect(validateResume(sample)).toEqual([]);
    const res = await put(sample);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ version: 1 });
    await dbs.topology.waitForReplicas();
    await eventually(async () => (await get()).headers.etag === '"v1"', 5000, 'the api to see version 1');

    const got = await get();
    expect(got.json()).toEqual(sample);
    expect(got.headers['content-type']).toMatch(/^application\/json/);
    expect(got.headers['cache-control']).toBe('public, max-age=2');

    const ready = (await app.inject({ method: 'GET', url: '/health/ready' })).json();
    const replica = dbs.topology.replicas[0];
    expect(ready.checks[0].detail.active).toBe(`${replica.host}:${replica.port}`);
  });

  it('keeps unknown fields at every level and an item order through the round trip', async () => {
    const doc = structuredClone(sample);
    (doc.basics!.location as Record<string, unknown>)['x-theme'] = { colour: 'teal', sizes: [1, 2.5] };
    (doc.basics as Record<string, unknown>)['pronouns'] = 'she/her';
    (doc.basics!.profiles![0] as Record<string, unknown>)['followers'] = 42;
    (doc.work![1] as Record<string, unknown>)['team'] = { size: 7, remote: false };
    doc.skills = [...doc.skills!].reverse();
    doc.interests = [];
    delete doc.references;
    expect((await put(doc)).statusCode).toBe(200);
    const version = await storedVersion();
    await dbs.topology.waitForReplicas();
    await eventually(async () => (await get()).headers.etag === `"v${version}"`, 5000, `version ${version}`);
    expect((await get()).json()).toEqual(doc);
    expect((await get('/api/v1/resume/references')).statusCode).toBe(404);
    expect((await get('/api/v1/resume/interests')).json()).toEqual([]);
    expect((await put(sample)).statusCode).toBe(200);
  });

  it('keeps extra top-level keys, whatever their names, and serves them back exactly as sent', async () => {
    const doc = {
      ...structuredClone(sample),
      hobbies: ['sailing', { kind: 'knots', count: 12 }],
      'x-vita': { theme: 'teal', sizes: [1, 2.5, null], nested: { deeper: [true, false] } },
      'basics.profiles': 'a top-level key, not the profiles',
      profiles: [{ network: 'not basics.profiles' }],
      seq: 7,
      extras: { present: ['x'] },
      present: null,
      constructor: 'a name like any other',
      '': 'the empty key',
      '😀': 'é ✓ 🚀 \u0000 a\u0000b',
    };
    expect(validateResume(doc)).toEqual([]);
    const res = await put(doc);
    expect(res.statusCode).toBe(200);
    await dbs.topology.waitForReplicas();
    await eventually(async () => (await get()).headers.etag === `"v${res.json().version}"`, 5000, `version ${res.json().version}`);
    expect(JSON.parse((await get()).body)).toStrictEqual(JSON.parse(JSON.stringify(doc)));
    expect((await get('/api/v1/resume/basics')).json()).toStrictEqual(sample.basics);
    expect((await put(sample)).statusCode).toBe(200);
  });

  it('answers If-None-Match with 304 and serves single sections with their own ETag', async () => {
    const version = await storedVersion();
    await dbs.topology.waitForReplicas();
    await eventually(async () => (await get()).headers.etag === `"v${version}"`, 5000, `version ${version}`);
    const first = await get();
    const again = await get('/api/v1/resume', { 'if-none-match': String(first.headers.etag) });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');

    const skills = await get('/api/v1/resume/skills');
    expect(skills.statusCode).toBe(200);
    expect(skills.json()).toEqual(sample.skills);
    expect(skills.headers.etag).toBe(`"v${version}-skills"`);
    expect((await get('/api/v1/resume/skills', { 'if-none-match': `W/"v${version}-skills"` })).statusCode).toBe(304);
    expect((await get('/api/v1/resume/basics')).json()).toEqual(sample.basics);
  });

  it('404 for an unknown section lists the sections there are', async () => {
    const res = await get('/api/v1/resume/hobbies');
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toContain('there is no section "hobbies"');
    expect(res.json().sections).toEqual(expect.arrayContaining(['basics', 'work', 'meta']));
  });

  describe('bad input is refused and leaves the stored document unchanged', () => {
    const big = JSON.stringify({ basics: { summary: 'x'.repeat(1024 * 1024) } });
    const cases: [string, () => ReturnType<typeof put>, number, RegExp][] = [
      ['invalid fields', () => put({ ...sample, work: [{ startDate: '2020-13-45x' }], basics: { email: 'nope' } }), 400, /work\[0\]\.startDate: must be YYYY, YYYY-MM or YYYY-MM-DD/],
      ['null where a string is wanted', () => put({ basics: { name: null } }), 400, /basics\.name: must be a string/],
      ['a document that is not an object', () => put('[1,2]'), 400, /\(document\)/],
      ['malformed JSON', () => put('{"basics": '), 400, /JSON/i],
      ['no token', () => put(sample, { authorization: '' }), 401, /admin token is required/],
      ['a wrong token', () => put(sample, { authorization: 'Bearer not-the-token-at-all' }), 403, /not valid/],
      ['a body over 1 MiB', () => put(big), 413, /too large/i],
      ['a body that is not JSON', () => put('name=Ada', { 'content-type': 'application/x-www-form-urlencoded' }), 415, /unsupported media type/i],
      ['a stale If-Match', () => put(sample, { 'if-match': '"v0"' }), 412, /at version \d+ \(ETag \\"v\d+\\"\), not \\"v0\\"/],
      ['a list of stale If-Match tags', () => put(sample, { 'if-match': '"v0", "v1"' }), 412, /not \\"v0\\", \\"v1\\"/],
      ['an unquoted If-Match', () => put(sample, { 'if-match': 'v1' }), 400, /If-Match header is malformed at \\"v1\\": an entity tag is quoted/],
      ['an If-Match list with one malformed member', () => put(sample, { 'if-match': '"v1", v2' }), 400, /If-Match header is malformed at \\"v2\\"/],
      ['an If-Match with an unterminated quote', () => put(sample, { 'if-match': '"v1' }), 400, /If-Match header is malformed/],
      ['an If-Match list holding *', () => put(sample, { 'if-match': '*, "v1"' }), 400, /If-Match header is malformed at \\"\*\\": \\"\*\\" cannot be part of a list/],
      ['an empty If-Match', () => put(sample, { 'if-match': ' ' }), 400, /If-Match header is empty/],
    ];
    it.each(cases)('%s', async (_name, send, status, message) => {
      const before = await storedVersion();
      const res = await send();
      expect(res.statusCode).toBe(status);
      expect(res.body).toMatch(message);
      expect(res.body).not.toContain(dbs.adminToken);
      expect(await storedVersion()).toBe(before);
      expect((await get()).json()).toEqual(sample);
    });

    it('lists every violation with its path', async () => {
      const res = await put({ basics: { email: 'x', profiles: [{ url: 'not a uri' }] }, skills: [{ keywords: ['a', 3] }] });
      expect(res.statusCode).toBe(400);
      const paths = (res.json().violations as { path: string }[]).map((v) => v.path).sort();
      expect(paths).toEqual(['basics.email', 'basics.profiles[0].url', 'skills[0].keywords[1]']);
    });
  });

  describe('If-Match', () => {
    it('a weak tag never matches, even of the current version: 412 saying why', async () => {
      const before = await storedVersion();
      const res = await put(sample, { 'if-match': `W/"v${before}"` });
      expect(res.statusCode).toBe(412);
      expect(res.json().message).toBe(
        `weak entity tags (W/"v${before}") never match: If-Match compares strongly (RFC 9110 §13.1.1); the résumé is at version ${before} (ETag "v${before}")`,
      );
      expect(await storedVersion()).toBe(before);
    });

    it('a 12 KB If-Match list gets a 412 that quotes about 100 characters of it, not the list', async () => {
      const before = await storedVersion();
      const header = Array.from({ length: 1500 }, (_, i) => `"v${before + 1000 + i}"`).join(', ');
      expect(header.length).toBeGreaterThan(12_000);
      const res = await put(sample, { 'if-match': header });
      expect(res.statusCode).toBe(412);
      expect(res.body.length).toBeLessThan(400);
      expect(res.json().message).toMatch(/not "v\d+", .*, … \(1500 in all\): fetch it again first$/);
    });

    it('a list matches when one strong member is the current ETag', async () => {
      const before = await storedVersion();
      const res = await put(sample, { 'if-match': `W/"v${before}", "v0",, "v${before}"` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ version: before + 1 });
      expect(res.headers.etag).toBe(`"v${before + 1}"`);
    });

    it('* writes when a document is stored', async () => {
      const before = await storedVersion();
      const res = await put(sample, { 'if-match': '*' });
      expect(res.statusCode).toBe(200);
      expect(await storedVersion()).toBe(before + 1);
    });

    it('* is 412 when no document is stored, and nothing is written', async () => {
      const { primary } = dbs.topology;
      await primary.query('CREATE TABLE vita.state_saved AS SELECT * FROM vita.resume_state');
      await primary.query('DELETE FROM vita.resume_state');
      try {
        const res = await put({ ...sample, work: [] }, { 'if-match': '*' });
        expect(res.statusCode).toBe(412);
        expect(res.json().message).toMatch(/requires a stored résumé and there is none/);
      } finally {
        await primary.query('INSERT INTO vita.resume_state SELECT * FROM vita.state_saved');
        await primary.query('DROP TABLE vita.state_saved');
      }
      const work = await primary.query<{ name: string }[]>('SELECT name FROM vita.resume_work ORDER BY seq');
      expect(work.map((w) => w.name)).toEqual(sample.work!.map((w) => w.name));
    });

    it('20 concurrent writers with the same If-Match: exactly one wins, 19 get 412', async () => {
      const before = await storedVersion();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => put({ ...sample, meta: { version: `writer-${i}` } }, { 'if-match': `"v${before}"` })),
      );
      const codes = results.map((r) => r.statusCode);
      expect(codes.filter((c) => c === 200)).toHaveLength(1);
      expect(codes.filter((c) => c === 412)).toHaveLength(19);
      for (const lost of results.filter((r) => r.statusCode === 412)) {
        expect(lost.json().message).toBe(`the résumé is at version ${before + 1} (ETag "v${before + 1}"), not "v${before}": fetch it again first`);
      }
      expect(await storedVersion()).toBe(before + 1);
      const [meta] = await dbs.topology.primary.query<{ version: string }[]>('SELECT version FROM vita.resume_meta');
      expect(meta.version).toBe(`writer-${codes.indexOf(200)}`);
      expect((await put(sample)).statusCode).toBe(200);
    });
  });

  it('the primary connection is set up once under concurrent first writes, and once again after the primary was down', async () => {
    const { primary } = dbs.topology;
    const user = 'vita_writer_once';
    const password = randomBytes(18).toString('base64url');
    await primary.query('CREATE USER ?@? IDENTIFIED BY ?', [user, '%', password]);
    await primary.query('GRANT SELECT, INSERT, UPDATE, DELETE ON vita.* TO ?@?', [user, '%']);
    const connections = async (): Promise<number> => {
      const [row] = await primary.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = ?', [user]);
      return Number(row.n);
    };
    const writer = await startApi(apiEnv(dbs, { DB_WRITE_USER: user, DB_WRITE_PASSWORD: password }));
    const burst = async (): Promise<number[]> => (await Promise.all(Array.from({ length: 10 }, () => putTo(writer)))).map((r) => r.statusCode);
    try {
      expect(await burst()).toEqual(Array(10).fill(200));
      // One pool of at most 2 connections, not one per concurrent first write.
      expect(await connections()).toBeGreaterThanOrEqual(1);
      expect(await connections()).toBeLessThanOrEqual(2);

      await primary.stop();
      try {
        const down = await putTo(writer);
        expect(down.statusCode).toBe(503);
        expect(down.json().message).toMatch(/primary database is unreachable, so the write was not applied/);
      } finally {
        await primary.start();
      }
      expect(await burst()).toEqual(Array(10).fill(200));
      expect(await connections()).toBeGreaterThanOrEqual(1);
      expect(await connections()).toBeLessThanOrEqual(2);
    } finally {
      await writer.close();
    }
    await eventually(async () => (await connections()) === 0, 5000, 'the closed api to leave no connection behind');
    await dbs.topology.waitForReplicas(30_000);
  });

  describe('a write the primary does not answer in time (DB_TIMEOUT_MS 300: writes are bounded by 1500 ms)', () => {
    let writer: NestFastifyApplication;
    let holder: Connection | undefined;
    const openTransactions = async (): Promise<number> => {
      const [row] = await dbs.topology.primary.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX');
      return Number(row.n);
    };

    beforeAll(async () => {
      writer = await startApi(apiEnv(dbs, { DB_TIMEOUT_MS: '300' }));
    });
    afterAll(async () => writer?.close());
    beforeEach(async () => {
      holder = await createConnection({ socketPath: dbs.topology.primary.socketPath, user: 'root', connectTimeout: 5000 });
    });
    afterEach(async () => {
      await holder?.end().catch(() => holder?.destroy());
      holder = undefined;
    });

    it('stuck before COMMIT (the state row locked elsewhere): 503 "not applied", and it never lands later', async () => {
      const before = await storedVersion();
      await holder!.query('START TRANSACTION');
      await holder!.query('SELECT version FROM vita.resume_state WHERE id = 1 FOR UPDATE');
      let res;
      try {
        res = await putTo(writer, {}, { ...sample, work: [] });
      } finally {
        await holder!.query('ROLLBACK');
      }
      expect(res.statusCode).toBe(503);
      expect(res.json().message).toBe('the primary database did not answer within 1500 ms, so the write was not applied; try again');
      // The abandoned transaction now gets the lock; it must end without committing.
      await eventually(async () => (await openTransactions()) === 0, 10_000, 'the abandoned transaction to end');
      expect(await storedVersion()).toBe(before);
      const work = await dbs.topology.primary.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM vita.resume_work');
      expect(Number(work[0].n)).toBe(sample.work!.length);
      const again = await putTo(writer);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual({ version: before + 1 });
    });

    it('COMMIT sent but not confirmed: 504 "outcome unknown" saying how to check, and it did land', async () => {
      const before = await storedVersion();
      await holder!.query('BACKUP STAGE START');
      await holder!.query('BACKUP STAGE BLOCK_COMMIT');
      let res;
      try {
        res = await putTo(writer, {}, { ...sample, meta: { version: 'unconfirmed' } });
      } finally {
        await holder!.query('BACKUP STAGE END');
      }
      expect(res.statusCode).toBe(504);
      const body = res.json();
      expect(body).toMatchObject({ statusCode: 504, error: 'Gateway Timeout', outcome: 'unknown', versionIfApplied: before + 1 });
      expect(body.message).toMatch(/^the primary database did not confirm the commit within 1500 ms: the write may or may not have been applied \(outcome unknown\)/);
      expect(body.message).toContain(`If it was, the résumé is at version ${before + 1} (ETag "v${before + 1}")`);
      expect(body.message).toContain(`send the write again with If-Match: "v${before}"`);
      expect(body.message).not.toMatch(/not applied|cannot be changed/);

      await eventually(async () => (await storedVersion()) === before + 1, 10_000, 'the unconfirmed commit to land');
      const retry = await putTo(writer, { 'if-match': `"v${before}"` });
      expect(retry.statusCode).toBe(412);
      expect((await putTo(writer)).statusCode).toBe(200);
    });
  });

  it('a write that fails half-way stores nothing of it', async () => {
    const before = await storedVersion();
    const { primary } = dbs.topology;
    await primary.query(
      "CREATE TRIGGER vita.fail_meta BEFORE INSERT ON vita.resume_meta FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected failure'",
    );
    try {
      const changed = { ...sample, work: [{ name: 'Half-written Ltd' }], meta: { version: 'v9' } };
      const res = await put(changed);
      expect(res.statusCode).toBe(500);
      expect(res.body).not.toContain('injected failure');
    } finally {
      await primary.query('DROP TRIGGER vita.fail_meta');
    }
    expect(await storedVersion()).toBe(before);
    const work = await primary.query<{ name: string }[]>('SELECT name FROM vita.resume_work ORDER BY seq');
    expect(work.map((w) => w.name)).toEqual(sample.work!.map((w) => w.name));
  });
});
