import { isVersion, MAX_VERSION, versionOf } from './version';

describe("the version of an api's ETag", () => {
  it('is n for "v<n>" and undefined for anything else', () => {
    expect(versionOf('"v0"')).toBe(0);
    expect(versionOf('"v42"')).toBe(42);
    for (const bad of [null, undefined, '', 'v42', 'w/"v42"', 'W/v42', '"v42-work"', '"42"', '"v"', '"v1", "v2"', '"v1234567890123456"']) expect([bad, versionOf(bad)]).toEqual([bad, undefined]);
  });

  it('is read from a weak ETag too (a compressing proxy makes "v<n>" into W/"v<n>")', () => {
    expect(versionOf('W/"v42"')).toBe(42);
    expect(versionOf('W/"v999999999999999"')).toBe(MAX_VERSION);
  });

  it('is at most what 15 digits carry, the same limit for an announced version', () => {
    expect(versionOf(`"v${MAX_VERSION}"`)).toBe(MAX_VERSION);
    expect([0, 7, MAX_VERSION].map(isVersion)).toEqual([true, true, true]);
    expect([-1, 1.5, MAX_VERSION + 1, Number.MAX_SAFE_INTEGER, Infinity, NaN, '7', null].map(isVersion)).toEqual([false, false, false, false, false, false, false, false]);
  });
});
