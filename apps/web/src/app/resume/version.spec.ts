import { versionOf } from './version';

describe("the version of an api's ETag", () => {
  it('is n for "v<n>" and undefined for anything else', () => {
    expect(versionOf('"v0"')).toBe(0);
    expect(versionOf('"v42"')).toBe(42);
    for (const bad of [null, undefined, '', 'v42', 'W/"v42"', '"v42-work"', '"42"', '"v"', '"v1", "v2"']) expect([bad, versionOf(bad)]).toEqual([bad, undefined]);
  });
});
