import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { validateResume } from '@vita/contracts';
import { sampleResume } from '@vita/testing';
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
      ['a field the schema does not allow at the top level', () => put({ ...sample, hobbies: [] }), 400, /hobbies: /],
      ['a document that is not an object', () => put('[1,2]'), 400, /\(document\)/],
      ['malformed JSON', () => put('{"basics": '), 400, /JSON/i],
      ['no token', () => put(sample, { authorization: '' }), 401, /admin token is required/],
      ['a wrong token', () => put(sample, { authorization: 'Bearer not-the-token-at-all' }), 403, /not valid/],
      ['a body over 1 MiB', () => put(big), 413, /too large/i],
      ['a body that is not JSON', () => put('name=Ada', { 'content-type': 'application/x-www-form-urlencoded' }), 415, /unsupported media type/i],
      ['a stale If-Match', () => put(sample, { 'if-match': '"v0"' }), 412, /not 0/],
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
