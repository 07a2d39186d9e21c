import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type ResumeViolation, validateResume } from '@vita/contracts';
import { type GeneratedResume, generateResumes, MUTATION_KINDS, referenceSample, referenceVerdict } from '@vita/testing';
import { isDeepStrictEqual } from 'node:util';
import { apiEnv, ApiDatabases, startApi, startApiDatabases } from '../../test/api-stack';
import { POISONING_MESSAGE } from '../json-body';
import { MAX_DEPTH, MESSAGES as STORAGE } from '../db/storable';

/*
 * Differential test: Vita's verdict on a JSON Resume document is @jsonresume/schema's (the package
 * JSON Resume's users validate with), through validateResume and through the api's PUT on a real
 * primary and replica, for every generated document (the reference sample mutated at every depth:
 * wrong types, nulls, bad dates, URIs and e-mail addresses, extra keys, removed keys, odd text).
 * Where Vita is deliberately stricter, the case is named below, with the reason.
 */
const SEED = 15;
const generated = generateResumes({ seed: SEED });

const pathsOf = (violations: ResumeViolation[]): string[] => [...new Set(violations.map((v) => v.path))].sort();
const describeDoc = (g: GeneratedResume): string => `#${g.id} (${g.mutations.map((m) => `${m.kind} at ${m.path}`).join(', ') || 'the sample'})`;

interface Tally {
  docs: number;
  accepted: number;
  agreed: number;
}
/** Documents by their one mutation's kind (`combined` for 2 to 4, `none` for the sample), and by where mutations happened. */
function tallies(agreed: (g: GeneratedResume) => boolean): { byKind: Record<string, Tally>; byDepth: Record<string, number> } {
  const byKind: Record<string, Tally> = {};
  const byDepth: Record<string, number> = {};
  for (const g of generated) {
    const kind = g.mutations.length === 0 ? 'none' : g.mutations.length === 1 ? g.mutations[0].kind : 'combined';
    const t = (byKind[kind] ??= { docs: 0, accepted: 0, agreed: 0 });
    t.docs += 1;
    t.accepted += referenceVerdict(JSON.parse(g.json)).valid ? 1 : 0;
    t.agreed += agreed(g) ? 1 : 0;
    for (const m of g.mutations) byDepth[m.depth] = (byDepth[m.depth] ?? 0) + 1;
  }
  return { byKind, byDepth };
}

function report(what: string, agreed: (g: GeneratedResume) => boolean): string {
  const { byKind, byDepth } = tallies(agreed);
  const total = Object.values(byKind).reduce((s, t) => ({ docs: s.docs + t.docs, accepted: s.accepted + t.accepted, agreed: s.agreed + t.agreed }));
  return [
    `${what}: ${total.agreed} of ${total.docs} verdicts agree with @jsonresume/schema (seed ${SEED}; ${total.accepted} accepted, ${total.docs - total.accepted} refused)`,
    ...Object.entries(byKind).map(([kind, t]) => `  ${kind.padEnd(12)} ${String(t.docs).padStart(4)} documents, ${String(t.accepted).padStart(3)} accepted, ${String(t.agreed).padStart(4)} agree`),
    `  mutations by where they happened: ${Object.entries(byDepth).map(([d, n]) => `${d} ${n}`).join(', ')}`,
  ].join('\n');
}

describe(`Vita and @jsonresume/schema agree on ${generated.length} generated documents`, () => {
  it('covers every kind of mutation, with over 400 documents', () => {
    expect(generated.length).toBeGreaterThanOrEqual(400);
    const kinds = new Set(generated.flatMap((g) => g.mutations.map((m) => m.kind)));
    expect([...kinds].sort()).toEqual([...MUTATION_KINDS].sort());
  });

  it('validateResume: the same verdict, with errors at the same paths, for every document', () => {
    const disagreements: string[] = [];
    const verdicts = new Map<number, boolean>();
    for (const g of generated) {
      const doc = JSON.parse(g.json) as unknown;
      const reference = referenceVerdict(doc);
      const vita = pathsOf(validateResume(doc));
      const agree = isDeepStrictEqual(vita, reference.paths);
      verdicts.set(g.id, agree);
      if (!agree) disagreements.push(`${describeDoc(g)}: reference ${JSON.stringify(reference.paths)}, Vita ${JSON.stringify(vita)}`);
    }
    console.log(report('validateResume', (g) => verdicts.get(g.id) === true));
    expect(disagreements).toEqual([]);
  });

  describe('PUT /api/v1/resume on a real primary and replica', () => {
    let dbs: ApiDatabases;
    let app: NestFastifyApplication;
    const put = (payload: string) =>
      app.inject({ method: 'PUT', url: '/api/v1/resume', headers: { authorization: `Bearer ${dbs.adminToken}`, 'content-type': 'application/json' }, payload });
    const get = () => app.inject({ method: 'GET', url: '/api/v1/resume' });
    const storedVersion = async (): Promise<number> => {
      const [row] = await dbs.topology.primary.query<{ version: number }[]>('SELECT version FROM vita.resume_state WHERE id = 1');
      return Number(row.version);
    };
    /** GET through the replica once it serves `version` (bounded). */
    const served = async (version: number) => {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const res = await get();
        if (res.headers.etag === `"v${version}"` || Date.now() > deadline) return res;
        await new Promise((r) => setTimeout(r, 10));
      }
    };

    beforeAll(async () => {
      dbs = await startApiDatabases(1);
      app = await startApi(apiEnv(dbs, { DB_VERSION_INTERVAL_MS: '10' }));
    });
    afterAll(async () => {
      await app?.close();
      await dbs?.topology.close();
    });

    it('200 exactly when the reference accepts (and GET gives the document back as sent), 400 at the same paths when it refuses', async () => {
      const before = await storedVersion();
      const disagreements: string[] = [];
      const verdicts = new Map<number, boolean>();
      let accepted = 0;
      for (const g of generated) {
        const doc = JSON.parse(g.json) as unknown;
        const reference = referenceVerdict(doc);
        const res = await put(g.json);
        let problem: string | undefined;
        if (reference.valid) {
          if (res.statusCode !== 200) problem = `reference accepts, PUT answered ${res.statusCode} ${res.body.slice(0, 300)}`;
          else {
            accepted += 1;
            const got = await served(res.json().version);
            if (got.headers.etag !== `"v${res.json().version}"`) problem = `GET never served version ${res.json().version}`;
            else if (!isDeepStrictEqual(JSON.parse(got.body), doc)) problem = `GET gave back ${got.body.slice(0, 300)}`;
          }
        } else if (res.statusCode !== 400) problem = `reference refuses at ${JSON.stringify(reference.paths)}, PUT answered ${res.statusCode}`;
        else if (!isDeepStrictEqual(pathsOf(res.json().violations), reference.paths)) {
          problem = `reference refuses at ${JSON.stringify(reference.paths)}, PUT at ${JSON.stringify(pathsOf(res.json().violations))}`;
        }
        verdicts.set(g.id, problem === undefined);
        if (problem) disagreements.push(`${describeDoc(g)}: ${problem}`);
      }
      console.log(report('PUT /api/v1/resume (and GET back)', (g) => verdicts.get(g.id) === true));
      expect(disagreements).toEqual([]);
      expect(await storedVersion()).toBe(before + accepted);
    }, 900_000);

    /*
     * Deliberately stricter: documents @jsonresume/schema (and validateResume) accept that PUT refuses,
     * each for a reason named here and in the README. Nothing is stored.
     */
    const sample = referenceSample();
    const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
    const stricter: [string, string, number, string | RegExp][] = [
      ['a body over 1 MiB (the request size limit)', JSON.stringify({ ...sample, basics: { summary: 'x'.repeat(1024 * 1024) } }), 413, /too large/i],
      ['a key named "__proto__" (the JSON parser refuses prototype poisoning)', '{"basics":{"name":"Ada","__proto__":{"name":"x"}}}', 400, POISONING_MESSAGE],
      ['a "constructor" key holding a "prototype" (the same)', '{"x-vita":{"constructor":{"prototype":{"polluted":true}}}}', 400, POISONING_MESSAGE],
      [`nesting deeper than ${MAX_DEPTH} levels (the database's JSON limit)`, `{"x-deep":${nested(MAX_DEPTH)}}`, 400, STORAGE.depth],
      ['a value nested 300,000 levels deep (the same; no stack overflow)', `{"work":[{"x":${nested(300_000)}}]}`, 400, STORAGE.depth],
      ['a lone UTF-16 surrogate in a string (not Unicode text)', '{"basics":{"name":"Ada \\ud800"}}', 400, STORAGE.surrogate],
      ['a lone UTF-16 surrogate in a key (the same)', '{"x-\\udfff":1}', 400, STORAGE.surrogateKey],
      ['a number beyond the range of a double (it would come back as null)', '{"x-score":1e400}', 400, STORAGE.number],
    ];
    it.each(stricter)('refuses %s', async (_name, body, status, message) => {
      const doc = JSON.parse(body) as unknown;
      expect(referenceVerdict(doc)).toEqual({ valid: true, paths: [] });
      expect(validateResume(doc)).toEqual([]);
      const before = await storedVersion();
      const res = await put(body);
      expect(res.statusCode).toBe(status);
      if (typeof message === 'string') expect(res.json().message).toContain(message);
      else expect(res.json().message).toMatch(message);
      expect(await storedVersion()).toBe(before);
    });

    it(`takes a document nested exactly ${MAX_DEPTH} levels deep, and gives it back as sent`, async () => {
      const body = `{"x-deep":${nested(MAX_DEPTH - 1)},"work":[{"x":{"y":${nested(MAX_DEPTH - 4)}}}],"basics":{"location":{"x":${nested(MAX_DEPTH - 3)}}}}`;
      const res = await put(body);
      expect(res.statusCode).toBe(200);
      expect(JSON.parse((await served(res.json().version)).body)).toStrictEqual(JSON.parse(body));
    });
  });
});
