import { sampleResume } from '@vita/testing';
import { MAX_DEPTH, MAX_REPORTED, MESSAGES, storageViolations } from './storable';

/** `levels` arrays inside one another: `[[...]]`. */
const nested = (levels: number): unknown => JSON.parse('['.repeat(levels) + ']'.repeat(levels));

describe('storageViolations: what the store could not give back as sent', () => {
  it('finds nothing in the sample, nor in extras of every kind at every level', () => {
    expect(storageViolations(sampleResume())).toEqual([]);
    const doc = { 'x-theme': { a: [1, 2.5, -3e300, null, true, '', 'é ✓ 🚀 \u0000'] }, basics: { location: { x: { y: [{}] } }, '😀': 1 } };
    expect(storageViolations(doc)).toEqual([]);
  });

  it(`allows ${MAX_DEPTH} levels counting the document, and refuses one more where it starts`, () => {
    expect(storageViolations({ x: nested(MAX_DEPTH - 1) })).toEqual([]);
    expect(storageViolations({ x: nested(MAX_DEPTH) })).toEqual([{ path: `x${'[0]'.repeat(MAX_DEPTH - 1)}`, message: MESSAGES.depth }]);
    expect(storageViolations({ work: [{ team: { a: nested(MAX_DEPTH - 4) } }] })).toEqual([]);
    expect(storageViolations({ work: [{ team: { a: nested(MAX_DEPTH - 3) } }] })).toEqual([
      { path: `work[0].team.a${'[0]'.repeat(MAX_DEPTH - 4)}`, message: MESSAGES.depth },
    ]);
  });

  it('walks a document nested 400,000 levels deep without recursion, reporting it once', () => {
    expect(storageViolations({ x: nested(400_000) })).toHaveLength(1);
  });

  it.each([
    ['a lone high surrogate', '\uD800'],
    ['a lone low surrogate', 'a\uDC00b'],
    ['a pair in the wrong order', '\uDC00\uD800'],
    ['a high surrogate at the end', `text${'😀'.slice(0, 1)}`],
  ])('refuses %s in a string or in a key', (_name, s) => {
    expect(storageViolations({ basics: { name: s } })).toEqual([{ path: 'basics.name', message: MESSAGES.surrogate }]);
    expect(storageViolations({ work: [{ [s]: 1 }] })).toEqual([{ path: `work[0].${s}`, message: MESSAGES.surrogateKey }]);
  });

  it('takes surrogate pairs (every character beyond U+FFFF) as the text they are', () => {
    expect(storageViolations({ basics: { name: '😀 𝄞 𠜎', '🚀': ['😀'] } })).toEqual([]);
  });

  it('refuses a number JSON.parse read as ±Infinity (it would come back as null)', () => {
    const doc = JSON.parse('{"x-score": 1e400, "meta": {"n": [-1e400, 1e308]}}');
    expect(storageViolations(doc)).toEqual([
      { path: 'x-score', message: MESSAGES.number },
      { path: 'meta.n[0]', message: MESSAGES.number },
    ]);
  });

  it(`lists problems in document order, at most ${MAX_REPORTED}`, () => {
    const doc = { a: '\uD800', b: { c: [Infinity, nested(MAX_DEPTH)] }, many: Array.from({ length: 100_000 }, () => '\uDFFF') };
    const found = storageViolations(doc);
    expect(found.slice(0, 4)).toEqual([
      { path: 'a', message: MESSAGES.surrogate },
      { path: 'b.c[0]', message: MESSAGES.number },
      { path: `b.c[1]${'[0]'.repeat(MAX_DEPTH - 3)}`, message: MESSAGES.depth },
      { path: 'many[0]', message: MESSAGES.surrogate },
    ]);
    expect(found).toHaveLength(MAX_REPORTED);
  });
});
