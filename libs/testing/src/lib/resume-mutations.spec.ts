import { referenceSample, referenceVerdict } from './reference';
import { generateResumes, MUTATION_KINDS, type MutationKind } from './resume-mutations';

const SEED = 15;

/** Every place in the sample's shape where a mutation of each kind can happen (what the systematic pass must cover). */
const SECTIONS = ['work[]', 'volunteer[]', 'education[]', 'awards[]', 'certificates[]', 'publications[]', 'skills[]', 'languages[]', 'interests[]', 'references[]', 'projects[]'];
const OBJECTS = ['top level', 'basics', 'basics.location', 'basics.profiles[]', ...SECTIONS, 'meta'];
const STRING_ARRAYS = ['work[].highlights', 'volunteer[].highlights', 'education[].courses', 'skills[].keywords', 'interests[].keywords', 'projects[].highlights', 'projects[].keywords', 'projects[].roles'];

describe('generated JSON Resume documents', () => {
  const run = generateResumes({ seed: SEED });
  const depthsOf = (kind: MutationKind): Set<string> => new Set(run.flatMap((g) => g.mutations.filter((m) => m.kind === kind).map((m) => m.depth)));

  it('start from the reference sample with every section, which the reference accepts', () => {
    const sample = referenceSample();
    expect(Object.keys(sample)).toEqual(expect.arrayContaining(['$schema', 'basics', 'certificates', 'meta']));
    expect(referenceVerdict(sample)).toEqual({ valid: true, paths: [] });
    expect(JSON.parse(run[0].json)).toEqual(sample);
    expect(run[0].mutations).toEqual([]);
  });

  it('are the same for the same seed, and differ for another', () => {
    expect(generateResumes({ seed: SEED })).toEqual(run);
    expect(generateResumes({ seed: SEED + 1 }).map((g) => g.json)).not.toEqual(run.map((g) => g.json));
  });

  it('number over 400, each kind with documents the reference accepts and ones it refuses (where it can)', () => {
    expect(run.length).toBeGreaterThanOrEqual(400);
    for (const kind of MUTATION_KINDS) {
      const verdicts = new Set(run.filter((g) => g.mutations.length === 1 && g.mutations[0].kind === kind).map((g) => referenceVerdict(JSON.parse(g.json)).valid));
      const expected = kind === 'extra-key' || kind === 'removed-key' || kind === 'odd-text' ? [true] : kind === 'wrong-type' || kind === 'null' ? [false] : [false, true];
      expect([kind, [...verdicts].sort()]).toEqual([kind, expected]);
    }
  });

  it('mutate at every depth: the document, every section, basics.location, profiles, every item and every list of strings', () => {
    expect([...depthsOf('extra-key')].sort()).toEqual([...OBJECTS].sort());
    expect([...depthsOf('removed-key')].sort()).toEqual([...OBJECTS].sort());
    for (const kind of ['wrong-type', 'null'] as const) {
      expect([...depthsOf(kind)].sort()).toEqual(['(document)', 'basics.profiles', ...SECTIONS.map((s) => s.slice(0, -2)), ...OBJECTS, ...STRING_ARRAYS].sort());
    }
    expect([...depthsOf('bad-date')].sort()).toEqual(['awards[]', 'certificates[]', 'education[]', 'projects[]', 'publications[]', 'volunteer[]', 'work[]']);
    expect([...depthsOf('bad-url')].sort()).toEqual(['basics', 'basics.profiles[]', 'certificates[]', 'education[]', 'meta', 'projects[]', 'publications[]', 'top level', 'volunteer[]', 'work[]']);
    expect([...depthsOf('bad-email')]).toEqual(['basics']);
  });
});
