import { etagVersion } from './etag';

describe('etagVersion', () => {
  it('reads the version from a page ETag, weak or strong, and nothing else', () => {
    expect(etagVersion('"v12-3fa9b"')).toBe(12);
    expect(etagVersion('W/"v7-abc_d-e"')).toBe(7);
    expect(etagVersion('"v0"')).toBe(0);
    for (const other of [null, undefined, '', '"12"', '"x12-aa"', 'v3', '"v3-a b"']) expect(etagVersion(other)).toBeNull();
  });
});
