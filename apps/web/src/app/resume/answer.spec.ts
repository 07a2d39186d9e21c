import type { ApiAnswer } from '../upstream/api-pool';
import { Held, judgeAnswer } from './answer';

const ok = (etag: string | null, body = '{"basics":{"name":"A"}}'): ApiAnswer => ({ status: 200, etag, body, from: 'http://127.0.0.1:1' });
const notModified = (etag: string | null): ApiAnswer => ({ status: 304, etag, body: '', from: 'http://127.0.0.1:1' });
const v5: Held = { version: 5, json: '{}', ifNoneMatch: '"v5"' };
const unversioned: Held = { json: '{"basics":{"name":"A"}}' };

describe("judging an api's answer against the copy", () => {
  it('takes a new version, strong or weak; web\'s own ETag is the strong "v<n>", the api\'s (as it came) is what it asks with', () => {
    expect(judgeAnswer(ok('"v6"'), v5)).toEqual({ kind: 'document', taken: { document: { basics: { name: 'A' } }, json: '{"basics":{"name":"A"}}', version: 6, etag: '"v6"', ifNoneMatch: '"v6"' } });
    expect(judgeAnswer(ok('W/"v6"'), v5)).toMatchObject({ kind: 'document', taken: { version: 6, etag: '"v6"', ifNoneMatch: 'W/"v6"' } });
    expect(judgeAnswer(ok('W/"v6"'), undefined)).toMatchObject({ kind: 'document', taken: { version: 6 } });
  });

  it('the same version confirms the copy; an older one is not taken, and is no error', () => {
    expect(judgeAnswer(ok('"v5"', 'not even json'), v5)).toEqual({ kind: 'confirmed' });
    expect(judgeAnswer(ok('W/"v5"'), v5)).toEqual({ kind: 'confirmed' });
    expect(judgeAnswer(ok('"v4"'), v5)).toEqual({ kind: 'older', version: 4 });
    expect(judgeAnswer(notModified('"v5"'), v5)).toEqual({ kind: 'confirmed' });
    expect(judgeAnswer(notModified('W/"v5"'), v5)).toEqual({ kind: 'confirmed' });
    expect(judgeAnswer(notModified(null), v5)).toEqual({ kind: 'confirmed' });
  });

  it('rejects a 304 nothing asked for, or naming another version', () => {
    expect(() => judgeAnswer(notModified('"v5"'), undefined)).toThrow('answered 304 to an unconditional request');
    expect(() => judgeAnswer(notModified(null), unversioned)).toThrow('answered 304 to an unconditional request');
    expect(() => judgeAnswer(notModified('"v1"'), v5)).toThrow('answered 304 with ETag "v1" to If-None-Match "v5"');
  });

  it('rejects a body that is not a JSON object', () => {
    expect(() => judgeAnswer(ok('"v6"', '{"basics":'), v5)).toThrow(/^answered a body that is not JSON \(/);
    for (const body of ['null', '[]', '7', '"text"']) expect(() => judgeAnswer(ok('"v6"', body), v5)).toThrow('answered JSON that is not an object');
  });

  it('without a version ETag: taken as unversioned while no versioned copy is held, never replacing a versioned one', () => {
    const taken = judgeAnswer(ok(null), undefined);
    expect(taken).toMatchObject({ kind: 'document', taken: { json: '{"basics":{"name":"A"}}' } });
    const { etag, version, ifNoneMatch } = taken.kind === 'document' ? taken.taken : { etag: '', version: -1, ifNoneMatch: '' };
    expect([version, ifNoneMatch]).toEqual([undefined, undefined]);
    // web's ETag of an unversioned document names its content.
    expect(etag).toMatch(/^"u-[A-Za-z0-9_-]{22}"$/);
    expect(judgeAnswer(ok('"something-else"', '{"basics":{"name":"B"}}'), undefined)).not.toMatchObject({ taken: { etag } });
    expect(judgeAnswer(ok(null), unversioned)).toEqual({ kind: 'confirmed' });
    expect(judgeAnswer(ok(null, '{"basics":{"name":"B"}}'), unversioned)).toMatchObject({ kind: 'document', taken: { document: { basics: { name: 'B' } } } });
    expect(judgeAnswer(ok('"v1"'), unversioned)).toMatchObject({ kind: 'document', taken: { version: 1 } });
    expect(() => judgeAnswer(ok(null), v5)).toThrow('answered without a "v<n>" ETag (none) while web holds v5');
    expect(() => judgeAnswer(ok('"abc"'), v5)).toThrow('answered without a "v<n>" ETag ("abc") while web holds v5');
    expect(() => judgeAnswer(ok(null, '{"basics":'), undefined)).toThrow(/not JSON/);
  });
});
