import { randomBytes } from 'node:crypto';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { encodeAll, encodeAllSync, encodedTag, EncodingChooser, pickEncoding } from './encodings';

describe('pickEncoding (Accept-Encoding, RFC 9110 §12.5.3)', () => {
  it.each([
    [undefined, 'identity'],
    ['', 'identity'],
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip, deflate', 'gzip'],
    ['GZIP', 'gzip'],
    ['br;q=0.5, gzip;q=0.8', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=0.5', 'gzip'],
    ['identity', 'identity'],
    ['identity;q=1, gzip;q=0.5', 'identity'],
    ['*', 'br'],
    ['*;q=0.3, br;q=0', 'gzip'],
    ['deflate', 'identity'],
    ['zstd, compress', 'identity'],
    ['br;q=0, gzip;q=0', 'identity'],
    // Every coding excluded: the body as it is rather than a 406.
    ['*;q=0', 'identity'],
    ['gzip;q=1.000, br;q=0.999', 'gzip'],
    ['br;q=1.0', 'br'],
  ])('%j → %s', (header, expected) => {
    expect(pickEncoding(header)).toBe(expected);
  });

  it.each(['gzip;q=2', 'br;q=abc', 'gzip;q=0.1234', 'g(zip', 'br;q=-1'])('a header that does not parse (%j) gets the body as it is', (header) => {
    expect(pickEncoding(header)).toBe('identity');
  });

  it('only picks among the codings there are', () => {
    expect(pickEncoding('br, gzip', ['gzip', 'identity'])).toBe('gzip');
    expect(pickEncoding('br', ['gzip', 'identity'])).toBe('identity');
  });
});

describe('EncodingChooser', () => {
  const bodies = { identity: Buffer.from('x'), br: Buffer.from('b'), gzip: Buffer.from('g') };

  it('gives the same answers as pickEncoding, also for a header it has kept', () => {
    const chooser = new EncodingChooser(4);
    for (let round = 0; round < 2; round++) {
      expect(chooser.choose('gzip, br', bodies)).toBe('br');
      expect(chooser.choose('gzip', bodies)).toBe('gzip');
      expect(chooser.choose(undefined, bodies)).toBe('identity');
    }
  });

  it('falls back to a coding the body has when the preferred one was not worth making', () => {
    expect(new EncodingChooser().choose('br, gzip', { identity: Buffer.from('x'), gzip: Buffer.from('g') })).toBe('gzip');
    expect(new EncodingChooser().choose('br', { identity: Buffer.from('x') })).toBe('identity');
  });

  it('stays bounded when every request brings a new header', () => {
    const chooser = new EncodingChooser(8);
    for (let i = 0; i < 100; i++) expect(chooser.choose(`gzip;q=0.${i % 10}, x-${i}`, bodies)).toBe(i % 10 === 0 ? 'identity' : 'gzip');
    expect((chooser as unknown as { seen: Map<string, unknown> }).seen.size).toBeLessThanOrEqual(8);
  });
});

describe('encodeAll', () => {
  const page = Buffer.from('<!doctype html><p>' + 'Résumé of a person, with the same words again and again. '.repeat(200) + '</p>');

  it('makes Brotli and gzip bodies that decode to the same bytes, smaller than the original', async () => {
    for (const bodies of [await encodeAll(page), encodeAllSync(page)]) {
      expect(bodies.identity).toBe(page);
      expect(brotliDecompressSync(bodies.br as Buffer).equals(page)).toBe(true);
      expect(gunzipSync(bodies.gzip as Buffer).equals(page)).toBe(true);
      expect((bodies.br as Buffer).length).toBeLessThan(page.length / 5);
    }
  });

  it('leaves out a coding that would not make the body smaller (tiny or already compressed)', async () => {
    expect(await encodeAll(Buffer.from('ok'))).toEqual({ identity: Buffer.from('ok') });
    const incompressible = await encodeAll(randomBytes(4096));
    expect(incompressible.br).toBeUndefined();
    expect(incompressible.gzip).toBeUndefined();
  });
});

describe('encodedTag', () => {
  it('marks the coding inside the quotes, so the tag stays a version tag', () => {
    expect(encodedTag('"v3-abc"', 'br')).toBe('"v3-abc-br"');
    expect(encodedTag('"v3"', 'gzip')).toBe('"v3-gz"');
    expect(encodedTag('"v3-abc"', 'identity')).toBe('"v3-abc"');
  });
});
