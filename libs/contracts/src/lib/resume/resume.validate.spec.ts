import { instanceToPlain, plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import {
  formatViolation,
  isResumeSection,
  type JsonResume,
  RESUME_SECTIONS,
  ResumeDto,
  type ResumeWork,
  validateResume,
  WorkDto,
} from './index';
import { fieldsOf } from './resume.rules';

/** A fictional résumé using every field of every section, plus unknown fields at several levels. */
const SAMPLE = {
  $schema: 'https://raw.githubusercontent.com/jsonresume/resume-schema/v1.0.0/schema.json',
  basics: {
    name: 'Mira Okonkwo-Lindqvist',
    label: 'Platform Engineer',
    image: 'portrait.png',
    email: 'mira.ol@example.org',
    phone: '+46 70 000 00 00',
    url: 'https://mira.example.org',
    summary: 'Builds boring, reliable infrastructure.',
    location: {
      address: 'Fiktivgatan 1\nLägenhet 3',
      postalCode: '111 22',
      city: 'Stockholm',
      countryCode: 'SE',
      region: 'Stockholm County',
      timezone: 'Europe/Stockholm',
    },
    profiles: [
      { network: 'GitHub', username: 'mira-ol', url: 'https://github.example/mira-ol', verified: true },
      { network: 'Mastodon', username: '@mira@example.social', url: 'https://example.social/@mira' },
    ],
    pronouns: 'she/her',
  },
  work: [
    {
      name: 'Nordlys Data AB',
      location: 'Stockholm, SE',
      description: 'Energy analytics',
      position: 'Staff Engineer',
      url: 'https://nordlys.example',
      startDate: '2021-03',
      endDate: '2024-11-30',
      summary: 'Led the platform team.',
      highlights: ['Cut deploy time from 40 to 6 minutes', 'Introduced on-call runbooks'],
      team: { size: 7, remote: true },
    },
    { name: 'Fjord Systems', position: 'Engineer', startDate: '2017' },
  ],
  volunteer: [
    {
      organization: 'Kodklubben',
      position: 'Mentor',
      url: 'https://kodklubben.example',
      startDate: '2019-09-01',
      endDate: '2020',
      summary: 'Taught teenagers Python.',
      highlights: ['Ran 30 weekly sessions'],
    },
  ],
  education: [
    {
      institution: 'Example Institute of Technology',
      url: 'https://eit.example.edu',
      area: 'Computer Science',
      studyType: 'MSc',
      startDate: '2012-08',
      endDate: '2014-06',
      score: '4.8/5',
      courses: ['DD2350 Algorithms', 'ID2203 Distributed Systems'],
      thesis: { title: 'Gossip protocols', grade: 'A' },
    },
  ],
  awards: [{ title: 'Open Source Champion', date: '2022-05', awarder: 'Example Foundation', summary: 'For maintainership.' }],
  certificates: [{ name: 'Certified Cloud Thing', date: '2023-01-15', url: 'https://certs.example/123', issuer: 'CloudOrg' }],
  publications: [
    {
      name: 'Boring Infrastructure',
      publisher: 'Example Press',
      releaseDate: '2020-10-01',
      url: 'https://press.example/boring',
      summary: 'An essay on operational simplicity.',
    },
  ],
  skills: [
    { name: 'Kubernetes', level: 'Expert', keywords: ['Helm', 'Operators'] },
    { name: 'Go', level: 'Advanced', keywords: [], years: 8 },
  ],
  languages: [
    { language: 'Swedish', fluency: 'Native' },
    { language: 'English', fluency: 'Fluent', certificate: null },
  ],
  interests: [{ name: 'Sailing', keywords: ['Archipelago', 'Knots'] }],
  references: [{ name: 'Jonas Fiktiv', reference: 'Mira made our pager quiet.' }],
  projects: [
    {
      name: 'quietpager',
      description: 'Alert deduplication service',
      highlights: ['Reduced pages by 80%'],
      keywords: ['Go', 'Prometheus'],
      startDate: '2022',
      endDate: '2023-04',
      url: 'https://github.example/mira-ol/quietpager',
      roles: ['Author', 'Maintainer'],
      entity: 'Nordlys Data AB',
      type: 'application',
      stars: 1200,
    },
  ],
  meta: {
    canonical: 'https://mira.example.org/resume.json',
    version: 'v1.0.0',
    lastModified: '2024-12-01T09:30:00',
    theme: 'even',
  },
};

const violations = (doc: unknown): string[] => validateResume(doc).map(formatViolation);

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) Object.values(value).forEach(deepFreeze);
  return Object.freeze(value);
}

describe('validateResume: whole documents', () => {
  it('accepts the full sample with zero violations and leaves it untouched', () => {
    const before = structuredClone(SAMPLE);
    expect(validateResume(SAMPLE)).toEqual([]);
    // structuredClone comes from another realm under jest, so compare structurally (toEqual).
    expect(SAMPLE).toEqual(before);
    expect(JSON.stringify(SAMPLE)).toBe(JSON.stringify(before));
  });

  it('never writes to the input, valid or not (frozen documents validate without throwing)', () => {
    const bad = deepFreeze({ basics: { name: null, profiles: 'x' }, work: [{ highlights: [1] }, 'x'], meta: [] });
    expect(() => validateResume(deepFreeze(structuredClone(SAMPLE)))).not.toThrow();
    expect(violations(bad)).toEqual([
      'basics.name: must be a string',
      'basics.profiles: must be an array',
      'work[0].highlights[0]: must be a string',
      'work[1]: must be an object',
      'meta: must be an object',
    ]);
  });

  it('accepts the empty document: nothing is required', () => {
    expect(validateResume({})).toEqual([]);
    expect(validateResume({ basics: {}, work: [], meta: {} })).toEqual([]);
  });

  it.each([null, undefined, 'resume', 42, true, [], [SAMPLE]])('rejects the non-object document %j', (doc) => {
    expect(validateResume(doc)).toEqual([{ path: '(document)', message: 'must be an object' }]);
  });

  it('reports every violation in document order, across sections', () => {
    expect(
      violations({
        $schema: 'schema.json',
        basics: { email: 'nope', location: { city: 7 }, profiles: [{ url: 'x' }, 'GitHub', { url: 'https://ok.example' }] },
        work: [{}, {}, { startDate: '2020-1', endDate: null, highlights: ['a', 'b', 3] }, 'Acme', { url: 'acme' }],
        skills: [{ keywords: ['a'] }, { keywords: ['a', 'b', 'c', false, null] }],
        meta: { canonical: '/resume.json' },
      }),
    ).toEqual([
      '$schema: must be a URI',
      'basics.email: must be an e-mail address',
      'basics.location.city: must be a string',
      'basics.profiles[0].url: must be a URI',
      'basics.profiles[1]: must be an object',
      'work[2].startDate: must be YYYY, YYYY-MM or YYYY-MM-DD',
      'work[2].endDate: must be a string',
      'work[2].highlights[2]: must be a string',
      'work[3]: must be an object',
      'work[4].url: must be a URI',
      'skills[1].keywords[3]: must be a string',
      'skills[1].keywords[4]: must be a string',
      'meta.canonical: must be a URI',
    ]);
  });

  it('returns structured violations that formatViolation renders as "path: message"', () => {
    const [v] = validateResume({ work: [{ startDate: 'soon' }] });
    expect(v).toEqual({ path: 'work[0].startDate', message: 'must be YYYY, YYYY-MM or YYYY-MM-DD' });
    expect(formatViolation(v)).toBe('work[0].startDate: must be YYYY, YYYY-MM or YYYY-MM-DD');
  });
});

describe('validateResume: $schema and unknown keys', () => {
  it('validates $schema as a URI string', () => {
    expect(violations({ $schema: 'https://jsonresume.org/schema' })).toEqual([]);
    expect(violations({ $schema: 'foo-bar-baz' })).toEqual(['$schema: must be a URI']);
    expect(violations({ $schema: null })).toEqual(['$schema: must be a string']);
    expect(violations({ $schema: {} })).toEqual(['$schema: must be a string']);
  });

  it('accepts unknown top-level keys (the schema allows additional properties at every level, the root too)', () => {
    expect(violations({ hobbies: [], basics: {}, x: 1, 'x-theme': { colour: 'teal' }, 'basics.profiles': null })).toEqual([]);
    expect(violations({ ...SAMPLE, hobbies: [1], 'x-vita': { a: [null] } })).toEqual([]);
  });

  it('still validates the known fields next to unknown top-level keys, and never reports the unknown ones', () => {
    const doc = { 'x-theme': { colour: 'teal' }, hobbies: [1], basics: { name: 1 }, work: 'x', extra: null };
    expect(validateResume(doc)).toEqual([
      { path: 'basics.name', message: 'must be a string' },
      { path: 'work', message: 'must be an array' },
    ]);
  });

  it('keeps unknown keys anywhere below the root, including prototype-ish names', () => {
    const doc = JSON.parse(
      '{"basics":{"__proto__":{"polluted":true},"constructor":"x","location":{"constructor":{"name":1}},' +
        '"profiles":[{"__proto__":[],"hasOwnProperty":1}]},"work":[{"constructor":null,"prototype":{}}]}',
    ) as Record<string, unknown>;
    const before = structuredClone(doc);
    expect(validateResume(doc)).toEqual([]);
    expect(doc).toEqual(before);
    expect(Object.keys(doc['basics'] as object)).toContain('__proto__');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('still validates known fields next to prototype-ish keys, and accepts a root __proto__ without polluting', () => {
    const doc = JSON.parse('{"__proto__":{"polluted":true},"work":[{"constructor":"x","__proto__":{"name":"y"},"name":1}]}');
    expect(violations(doc)).toEqual(['work[0].name: must be a string']);
    expect(violations(JSON.parse('{"__proto__":{"basics":{"name":1}},"constructor":{"prototype":{}}}'))).toEqual([]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

/** [description, document, expected "path: message" lines] */
type Case = [string, unknown, string[]];
const S = 'must be a string';
const D = 'must be YYYY, YYYY-MM or YYYY-MM-DD';
const U = 'must be a URI';
const A = 'must be an array';
const O = 'must be an object';

const SECTION_CASES: Record<string, Case[]> = {
  basics: [
    ['valid', { basics: { name: 'A', email: 'a@b.example', url: 'https://a.example', image: 'not a url is fine' } }, []],
    ['null string', { basics: { name: null } }, [`basics.name: ${S}`]],
    ['number as string', { basics: { phone: 5551234 } }, [`basics.phone: ${S}`]],
    ['image without format still typed', { basics: { image: ['a.png'] } }, [`basics.image: ${S}`]],
    ['bad email', { basics: { email: 'a.example.org' } }, ['basics.email: must be an e-mail address']],
    ['null email', { basics: { email: null } }, [`basics.email: ${S}`]],
    ['relative url', { basics: { url: '/me' } }, [`basics.url: ${U}`]],
    ['array instead of object', { basics: [{ name: 'A' }] }, [`basics: ${O}`]],
    ['string instead of object', { basics: 'A' }, [`basics: ${O}`]],
    ['null section', { basics: null }, [`basics: ${O}`]],
  ],
  'basics.location': [
    ['valid', { basics: { location: { city: 'Oslo', countryCode: 'NO', extra: 1 } } }, []],
    ['null string', { basics: { location: { city: null } } }, [`basics.location.city: ${S}`]],
    ['number postal code', { basics: { location: { postalCode: 12345 } } }, [`basics.location.postalCode: ${S}`]],
    ['array instead of object', { basics: { location: [{ city: 'Oslo' }] } }, [`basics.location: ${O}`]],
    ['string instead of object', { basics: { location: 'Oslo' } }, [`basics.location: ${O}`]],
  ],
  'basics.profiles': [
    ['valid', { basics: { profiles: [{ network: 'X', username: 'a', url: 'https://x.example/a' }] } }, []],
    ['object instead of array', { basics: { profiles: { network: 'X' } } }, [`basics.profiles: ${A}`]],
    ['string item', { basics: { profiles: ['github'] } }, [`basics.profiles[0]: ${O}`]],
    ['bad url', { basics: { profiles: [{}, { url: 'github.com/a' }] } }, [`basics.profiles[1].url: ${U}`]],
    ['null username', { basics: { profiles: [{ username: null }] } }, [`basics.profiles[0].username: ${S}`]],
  ],
  work: [
    ['valid', { work: [{ name: 'Acme', location: 'Remote', position: 'Dev', startDate: '2019-04', endDate: '2021', highlights: [] }] }, []],
    ['null string', { work: [{ name: null }] }, [`work[0].name: ${S}`]],
    ['location object (it is a string here)', { work: [{ location: { city: 'Oslo' } }] }, [`work[0].location: ${S}`]],
    ['bad dates', { work: [{}, {}, { startDate: '2019-4', endDate: 'present' }] }, [`work[2].startDate: ${D}`, `work[2].endDate: ${D}`]],
    ['numeric date', { work: [{ startDate: 2019 }] }, [`work[0].startDate: ${S}`]],
    ['bad url', { work: [{ url: 'acme.example' }] }, [`work[0].url: ${U}`]],
    ['non-string highlight', { work: [{ highlights: ['a', 2] }] }, [`work[0].highlights[1]: ${S}`]],
    ['string highlights', { work: [{ highlights: 'a' }] }, [`work[0].highlights: ${A}`]],
    ['object instead of array', { work: { name: 'Acme' } }, [`work: ${A}`]],
    ['string item', { work: ['Acme'] }, [`work[0]: ${O}`]],
  ],
  volunteer: [
    ['valid', { volunteer: [{ organization: 'Red Cross', position: 'Driver', startDate: '2010-01-01' }] }, []],
    ['null organization', { volunteer: [{ organization: null }] }, [`volunteer[0].organization: ${S}`]],
    ['bad url', { volunteer: [{ url: 'www.redcross.example' }] }, [`volunteer[0].url: ${U}`]],
    ['bad date', { volunteer: [{ endDate: '10-2010' }] }, [`volunteer[0].endDate: ${D}`]],
    ['null highlight', { volunteer: [{ highlights: [null] }] }, [`volunteer[0].highlights[0]: ${S}`]],
    ['object instead of array', { volunteer: {} }, [`volunteer: ${A}`]],
    ['nested array item', { volunteer: [[{ organization: 'x' }]] }, [`volunteer[0]: ${O}`]],
  ],
  education: [
    ['valid', { education: [{ institution: 'MIT', url: 'https://mit.example', score: '3.9', courses: ['6.001'] }] }, []],
    ['numeric score', { education: [{ score: 3.9 }] }, [`education[0].score: ${S}`]],
    ['null studyType', { education: [{ studyType: null }] }, [`education[0].studyType: ${S}`]],
    ['bad date', { education: [{ endDate: '2012-06-291' }] }, [`education[0].endDate: ${D}`]],
    ['bad url', { education: [{ url: 'mit' }] }, [`education[0].url: ${U}`]],
    ['object course', { education: [{ courses: ['A', {}] }] }, [`education[0].courses[1]: ${S}`]],
    ['string instead of array', { education: 'MIT' }, [`education: ${A}`]],
  ],
  awards: [
    ['valid', { awards: [{ title: 'Best', date: '1989-06-12', awarder: 'Time', summary: 'x' }] }, []],
    ['bad date', { awards: [{ date: '1989-6-12' }] }, [`awards[0].date: ${D}`]],
    ['numeric awarder', { awards: [{ awarder: 1 }] }, [`awards[0].awarder: ${S}`]],
    ['null item', { awards: [null] }, [`awards[0]: ${O}`]],
    ['object instead of array', { awards: { title: 'Best' } }, [`awards: ${A}`]],
  ],
  certificates: [
    ['valid (month 13 passes the pattern)', { certificates: [{ name: 'CKA', date: '2021-13-01', url: 'https://cncf.example', issuer: 'CNCF' }] }, []],
    ['short year', { certificates: [{ date: '21-01-01' }] }, [`certificates[0].date: ${D}`]],
    ['bad url', { certificates: [{ url: 'cncf' }] }, [`certificates[0].url: ${U}`]],
    ['null issuer', { certificates: [{ issuer: null }] }, [`certificates[0].issuer: ${S}`]],
    ['string instead of array', { certificates: 'CKA' }, [`certificates: ${A}`]],
  ],
  publications: [
    ['valid', { publications: [{ name: 'WWW', publisher: 'IEEE', releaseDate: '1990-08-01', url: 'https://ieee.example/www' }] }, []],
    ['timestamp date', { publications: [{ releaseDate: '1990-08-01T00:00:00Z' }] }, [`publications[0].releaseDate: ${D}`]],
    ['bad url', { publications: [{ url: 'ieee.example/www' }] }, [`publications[0].url: ${U}`]],
    ['array publisher', { publications: [{ publisher: ['IEEE'] }] }, [`publications[0].publisher: ${S}`]],
    ['object instead of array', { publications: {} }, [`publications: ${A}`]],
  ],
  skills: [
    ['valid', { skills: [{ name: 'Web', level: 'Master', keywords: ['HTML', 'CSS'] }] }, []],
    ['non-string keywords', { skills: [{ keywords: ['HTML', 5, null] }] }, [`skills[0].keywords[1]: ${S}`, `skills[0].keywords[2]: ${S}`]],
    ['object keywords', { skills: [{ keywords: { a: 'HTML' } }] }, [`skills[0].keywords: ${A}`]],
    ['numeric level', { skills: [{ level: 3 }] }, [`skills[0].level: ${S}`]],
    ['string instead of array', { skills: 'HTML' }, [`skills: ${A}`]],
  ],
  languages: [
    ['valid', { languages: [{ language: 'English', fluency: 'Native' }] }, []],
    ['null language', { languages: [{ language: null }] }, [`languages[0].language: ${S}`]],
    ['numeric fluency', { languages: [{ fluency: 5 }] }, [`languages[0].fluency: ${S}`]],
    ['string item', { languages: ['English'] }, [`languages[0]: ${O}`]],
    ['object instead of array', { languages: { language: 'English' } }, [`languages: ${A}`]],
  ],
  interests: [
    ['valid', { interests: [{ name: 'Philosophy', keywords: ['Nietzsche'] }] }, []],
    ['boolean keyword', { interests: [{ keywords: [true] }] }, [`interests[0].keywords[0]: ${S}`]],
    ['null name', { interests: [{ name: null }] }, [`interests[0].name: ${S}`]],
    ['string instead of array', { interests: 'Philosophy' }, [`interests: ${A}`]],
  ],
  references: [
    ['valid', { references: [{ name: 'Tim', reference: 'Great.' }] }, []],
    ['numeric reference', { references: [{ reference: 1 }] }, [`references[0].reference: ${S}`]],
    ['null name', { references: [{ name: null }] }, [`references[0].name: ${S}`]],
    ['array item', { references: [[]] }, [`references[0]: ${O}`]],
    ['object instead of array', { references: {} }, [`references: ${A}`]],
  ],
  projects: [
    ['valid', { projects: [{ name: 'P', roles: ['Lead'], keywords: ['Go'], startDate: '2017', url: 'https://p.example', type: 'talk' }] }, []],
    ['non-string role', { projects: [{ roles: ['Lead', 1] }] }, [`projects[0].roles[1]: ${S}`]],
    ['string keywords', { projects: [{ keywords: 'Go' }] }, [`projects[0].keywords: ${A}`]],
    ['bad date', { projects: [{ startDate: '2017-1' }] }, [`projects[0].startDate: ${D}`]],
    ['bad url', { projects: [{ url: 'p' }] }, [`projects[0].url: ${U}`]],
    ['null entity and numeric type', { projects: [{ entity: null, type: 1 }] }, [`projects[0].entity: ${S}`, `projects[0].type: ${S}`]],
    ['object instead of array', { projects: { name: 'P' } }, [`projects: ${A}`]],
  ],
  meta: [
    ['valid (lastModified has no pattern)', { meta: { canonical: 'https://a.example/r.json', version: 'v1.0.0', lastModified: 'yesterday' } }, []],
    ['bad canonical', { meta: { canonical: 'not a uri' } }, [`meta.canonical: ${U}`]],
    ['numeric version', { meta: { version: 1 } }, [`meta.version: ${S}`]],
    ['array instead of object', { meta: [] }, [`meta: ${O}`]],
    ['string instead of object', { meta: 'v1' }, [`meta: ${O}`]],
  ],
};

describe.each(Object.entries(SECTION_CASES))('validateResume: %s', (_section, cases) => {
  it.each(cases)('%s', (_name, doc, expected) => {
    expect(violations(doc)).toEqual(expected);
  });
});

describe('sections and types', () => {
  it('lists the 13 sections in schema order, matching the DTO', () => {
    expect(RESUME_SECTIONS).toEqual([
      'basics', 'work', 'volunteer', 'education', 'awards', 'certificates', 'publications',
      'skills', 'languages', 'interests', 'references', 'projects', 'meta',
    ]);
    expect([...fieldsOf(ResumeDto).keys()]).toEqual(['$schema', ...RESUME_SECTIONS]);
  });

  it('recognises section names only', () => {
    expect(RESUME_SECTIONS.every(isResumeSection)).toBe(true);
    expect(['$schema', 'hobbies', 'Work', '', 'toString'].some(isResumeSection)).toBe(false);
  });

  it('accepts plain object literals with extra keys through the exported types', () => {
    const job: ResumeWork = { name: 'Acme', highlights: ['x'], internalId: 7 };
    const resume: JsonResume = { basics: { name: 'A', location: { city: 'B', extra: true } }, work: [job] };
    expect(validateResume(resume)).toEqual([]);
  });
});

describe('DTO classes with class-transformer (e.g. a Nest ValidationPipe)', () => {
  it('creates instances without own undefined fields', () => {
    expect(Object.keys(new WorkDto())).toEqual([]);
  });

  it('round-trips the sample, unknown fields included, and validates it', () => {
    const dto = plainToInstance(ResumeDto, SAMPLE);
    expect(dto.work?.[0]).toBeInstanceOf(WorkDto);
    expect(validateSync(dto)).toEqual([]);
    expect(instanceToPlain(dto)).toStrictEqual(SAMPLE);
  });

  it('reports the same problems as constraint messages', () => {
    const dto = plainToInstance(ResumeDto, { work: [{ highlights: ['a', 1] }], meta: [] });
    const [work, meta] = validateSync(dto);
    expect(work.children?.[0].children?.[0].constraints).toEqual({ resumeStringArray: 'highlights[1] must be a string' });
    expect(meta.constraints).toMatchObject({ resumeObject: 'meta must be an object' });
  });
});
