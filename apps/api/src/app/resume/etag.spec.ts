import { etagOf, excerpt, ifMatchHolds, ifNoneMatches, parseIfMatch, preconditionFailure } from './etag';

describe('If-Match (RFC 9110 §13.1.1)', () => {
  it.each([
    [undefined, { kind: 'none' }],
    ['*', { kind: 'exists' }],
    [' * ', { kind: 'exists' }],
    ['"v3"', { kind: 'tags', strong: ['"v3"'], weak: [] }],
    ['W/"v3"', { kind: 'tags', strong: [], weak: ['"v3"'] }],
    ['"v1", W/"v2" ,"v3"', { kind: 'tags', strong: ['"v1"', '"v3"'], weak: ['"v2"'] }],
    [', "v1",,', { kind: 'tags', strong: ['"v1"'], weak: [] }],
    ['"a,b", "v2"', { kind: 'tags', strong: ['"a,b"', '"v2"'], weak: [] }],
    ['""', { kind: 'tags', strong: ['""'], weak: [] }],
  ])('parses %j', (header, expected) => {
    expect(parseIfMatch(header)).toEqual(expected);
  });

  it.each([
    ['', /If-Match header is empty/],
    [' , ', /If-Match header is empty/],
    ['v3', /If-Match header is malformed at "v3": an entity tag is quoted/],
    ['"v3', /If-Match header is malformed at "\\"v3"/],
    ['w/"v3"', /malformed at "w\/\\"v3\\""/],
    ['"v1" "v2"', /malformed/],
    ['"v1", v2', /malformed at "v2"/],
    ['*, "v1"', /malformed at "\*": "\*" cannot be part of a list/],
    ['"v 1"', /malformed/],
    [`"${'x'.repeat(100)}`, /malformed at "\\"x{39}…"/],
  ])('refuses %j, naming the header', (header, message) => {
    expect(() => parseIfMatch(header)).toThrow(message);
  });

  it('holds for no header, for * when something is stored, and for a strong tag of the current version only', () => {
    expect(ifMatchHolds(parseIfMatch(undefined), undefined)).toBe(true);
    expect(ifMatchHolds(parseIfMatch('*'), 0)).toBe(true);
    expect(ifMatchHolds(parseIfMatch('*'), undefined)).toBe(false);
    expect(ifMatchHolds(parseIfMatch('"v3"'), 3)).toBe(true);
    expect(ifMatchHolds(parseIfMatch('"v3"'), 4)).toBe(false);
    expect(ifMatchHolds(parseIfMatch('W/"v3"'), 3)).toBe(false);
    expect(ifMatchHolds(parseIfMatch('"v2", "v3"'), 3)).toBe(true);
    expect(ifMatchHolds(parseIfMatch('"v3-skills"'), 3)).toBe(false);
    expect(ifMatchHolds(parseIfMatch('"v3"'), undefined)).toBe(false);
  });

  it('says why a precondition failed', () => {
    expect(preconditionFailure(parseIfMatch('"v2"'), 3)).toBe('the résumé is at version 3 (ETag "v3"), not "v2": fetch it again first');
    expect(preconditionFailure(parseIfMatch('W/"v3"'), 3)).toBe(
      'weak entity tags (W/"v3") never match: If-Match compares strongly (RFC 9110 §13.1.1); the résumé is at version 3 (ETag "v3")',
    );
    expect(preconditionFailure(parseIfMatch('"v1", W/"v3"'), 3)).toBe(
      'the résumé is at version 3 (ETag "v3"), not "v1": fetch it again first; weak entity tags (W/"v3") never match: If-Match compares strongly (RFC 9110 §13.1.1)',
    );
    expect(preconditionFailure(parseIfMatch('*'), undefined)).toMatch(/requires a stored résumé and there is none/);
  });

  it('quotes at most about 100 characters of the header, however long the list', () => {
    const many = Array.from({ length: 3000 }, (_, i) => `"v${i + 10}"`);
    const strong = preconditionFailure(parseIfMatch(many.join(',')), 3);
    expect(strong).toMatch(/^the résumé is at version 3 \(ETag "v3"\), not "v10", "v11", .*, … \(3000 in all\): fetch it again first$/);
    expect(strong.length).toBeLessThan(200);
    const mixed = preconditionFailure(parseIfMatch([...many, ...many.map((t) => `W/${t}`)].join(', ')), 3);
    expect(mixed).toContain('(3000 in all)');
    expect(mixed.length).toBeLessThan(350);
    const weak = preconditionFailure(parseIfMatch(many.map((t) => `W/${t}`).join(', ')), 3);
    expect(weak).toMatch(/^weak entity tags \(W\/"v10", .*, … \(3000 in all\)\) never match/);
    expect(weak.length).toBeLessThan(300);
    const long = preconditionFailure(parseIfMatch(`"${'x'.repeat(12_000)}"`), 3);
    expect(long).toMatch(/not "x{99}…: fetch/);
    expect(long.length).toBeLessThan(200);
  });
});

describe('quoting a list', () => {
  it('keeps whole items within the limit and says how many there are', () => {
    expect(excerpt(['"a"', '"b"'])).toBe('"a", "b"');
    expect(excerpt(['"aaaa"', '"bbbb"', '"cccc"'], 14)).toBe('"aaaa", "bbbb", … (3 in all)');
    expect(excerpt(['"aaaaaaaa"'], 4)).toBe('"aaa…');
    expect(excerpt(['"aaaaaaaa"', '"b"'], 4)).toBe('"aaa…, … (2 in all)');
  });
});

describe('If-None-Match', () => {
  it('compares weakly and accepts *', () => {
    expect(ifNoneMatches('W/"v3"', etagOf(3))).toBe(true);
    expect(ifNoneMatches('"v2", "v3"', etagOf(3))).toBe(true);
    expect(ifNoneMatches('*', etagOf(3))).toBe(true);
    expect(ifNoneMatches('"v3"', etagOf(3, 'skills'))).toBe(false);
    expect(ifNoneMatches(undefined, etagOf(3))).toBe(false);
  });

  it('splits the list as If-Match does: a comma or * inside an entity tag is part of it', () => {
    expect(ifNoneMatches('"a,*,b"', etagOf(3))).toBe(false);
    expect(ifNoneMatches('"a,"v3"', etagOf(3))).toBe(false);
    expect(ifNoneMatches('"x,y", W/"v3"', etagOf(3))).toBe(true);
  });

  it('ignores a malformed header: the full answer', () => {
    expect(ifNoneMatches('"v1", *', etagOf(3))).toBe(false);
    expect(ifNoneMatches('v3', etagOf(3))).toBe(false);
    expect(ifNoneMatches('', etagOf(3))).toBe(false);
  });
});
