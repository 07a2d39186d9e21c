import { Announcements } from './announcements';

const A = 'http://127.0.0.1:1';
const B = 'http://127.0.0.1:2';
const make = () => new Announcements({ expireMs: 10_000, distrustMs: 2000 });

describe('what the version streams announce', () => {
  it('a newer version brings one fetch; the same announcement again brings none', () => {
    const book = make();
    expect(book.heard(A, 5, 4, 0)).toBe(true);
    expect(book.heard(A, 5, 4, 1)).toBe(false);
    expect(book.heard(B, 5, 4, 1)).toBe(false);
    expect(book.heard(B, 4, 4, 1)).toBe(false);
    expect(book.take(4, 2)).toMatchObject({ version: 5, from: A, fetched: true });
    expect(book.heard(A, 5, 4, 3)).toBe(false);
    expect(book.due(4, 3)).toBe(false);
  });

  it('announcements during a fetch are merged into one more round', () => {
    const book = make();
    book.heard(A, 5, 4, 0);
    book.take(4, 0);
    expect(book.heard(A, 6, 4, 1)).toBe(true);
    expect(book.heard(B, 7, 4, 2)).toBe(true);
    book.settled(5, 3);
    expect(book.due(5, 3)).toBe(true);
    expect(book.take(5, 3)).toMatchObject({ version: 7, from: B });
    book.settled(7, 4);
    expect(book.due(7, 4)).toBe(false);
    expect(book.wanted(7, 4)).toBeUndefined();
  });

  it('an instance whose announced version its fetch did not bring is not followed at once for a while; another instance is', () => {
    const book = make();
    book.heard(A, 9, 1, 0);
    book.take(1, 0);
    book.settled(1, 100);
    // Still pending (readiness shows it), but no more fetches on its account.
    expect(book.wanted(1, 100)).toMatchObject({ version: 9 });
    expect(book.due(1, 100)).toBe(false);
    expect(book.heard(A, 10, 1, 200)).toBe(false);
    expect(book.due(1, 200)).toBe(false);
    // The same version from another instance is worth one fetch.
    expect(book.heard(B, 10, 1, 300)).toBe(true);
    expect(book.heard(A, 11, 1, 2100)).toBe(true);
  });

  it('is forgotten when its instance announces lower, when its stream drops, and after expireMs', () => {
    const book = make();
    book.heard(A, 9, 1, 0);
    expect(book.heard(A, 2, 1, 1)).toBe(true);
    expect(book.wanted(1, 1)).toMatchObject({ version: 2, from: A });
    expect(book.heard(A, 1, 1, 2)).toBe(false);
    expect(book.wanted(1, 2)).toBeUndefined();

    book.heard(A, 9, 1, 10);
    book.forget(B);
    expect(book.wanted(1, 10)).toMatchObject({ version: 9 });
    book.forget(A);
    expect(book.wanted(1, 10)).toBeUndefined();

    book.heard(B, 9, 1, 20);
    expect(book.wanted(1, 10_019)).toMatchObject({ version: 9 });
    expect(book.wanted(1, 10_020)).toBeUndefined();
  });

  it('with nothing held (or an unversioned copy) any announcement is newer', () => {
    const book = make();
    expect(book.heard(A, 0, undefined, 0)).toBe(true);
    expect(book.wanted(undefined, 0)).toMatchObject({ version: 0 });
  });
});
