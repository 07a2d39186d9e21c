import { etagOf, ifMatchHolds, ifNoneMatches, parseIfMatch, preconditionFailure } from './etag';

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
});

describe('If-None-Match', () => {
  it('compares weakly and accepts *', () => {
    expect(ifNoneMatches('W/"v3"', etagOf(3))).toBe(true);
    expect(ifNoneMatches('"v2", "v3"', etagOf(3))).toBe(true);
    expect(ifNoneMatches('*', etagOf(3))).toBe(true);
    expect(ifNoneMatches('"v3"', etagOf(3, 'skills'))).toBe(false);
    expect(ifNoneMatches(undefined, etagOf(3))).toBe(false);
  });
});
