import { hostName, nameMatches, sanNames } from './certificates';
import { isToken, MemoryChallenges } from './challenges';
import { plainAnswer } from './redirect';

describe('certificate names', () => {
  it('takes the DNS names of a subjectAltName, lower-cased, and nothing else', () => {
    expect(sanNames('DNS:A.test, IP Address:127.0.0.1, DNS:*.Wild.test')).toEqual(['a.test', '*.wild.test']);
    expect(sanNames(undefined)).toEqual([]);
  });

  it('matches a wildcard in exactly one leading label', () => {
    expect(nameMatches('*.example.org', 'www.example.org')).toBe(true);
    expect(nameMatches('*.example.org', 'example.org')).toBe(false);
    expect(nameMatches('*.example.org', 'a.b.example.org')).toBe(false);
    expect(nameMatches('*.example.org', '.example.org')).toBe(false);
    expect(nameMatches('example.org', 'example.org')).toBe(true);
    expect(nameMatches('example.org', 'www.example.org')).toBe(false);
  });

  it('reads the host of a Host header: port dropped, lower-cased, DNS names only', () => {
    expect(hostName('WWW.Example.org:8080')).toBe('www.example.org');
    expect(hostName('example.org.')).toBe('example.org');
    expect(hostName('[::1]:80')).toBeNull();
    expect(hostName('evil.example/path')).toBeNull();
    expect(hostName(undefined)).toBeNull();
  });
});

describe('plainAnswer (https.redirectHttp)', () => {
  const served = (host: string) => host === 'example.org';

  it('redirects a served host to https, path and query kept, the port only when not 443', () => {
    expect(plainAnswer('/a/b?x=1', 'example.org:80', served, 443)).toEqual({ kind: 'redirect', location: 'https://example.org/a/b?x=1' });
    expect(plainAnswer('/', 'EXAMPLE.org', served, 8443)).toEqual({ kind: 'redirect', location: 'https://example.org:8443/' });
  });

  it('refuses any other host (never echoed into a Location)', () => {
    expect(plainAnswer('/', 'evil.example', served, 443).kind).toBe('refuse');
    expect(plainAnswer('/', undefined, served, 443).kind).toBe('refuse');
  });

  it('without redirectHttp, answers ACME challenges and forwards everything else', () => {
    expect(plainAnswer('/.well-known/acme-challenge/abc', 'example.org', served, 443, false)).toEqual({ kind: 'challenge', token: 'abc' });
    expect(plainAnswer('/page', 'evil.example', served, 443, false)).toEqual({ kind: 'forward' });
  });

  it('forwards /health/* and answers ACME challenges, whatever the host', () => {
    expect(plainAnswer('/health/ready', 'evil.example', served, 443)).toEqual({ kind: 'forward' });
    expect(plainAnswer('/.well-known/acme-challenge/abc_-1', 'evil.example', served, 443)).toEqual({ kind: 'challenge', token: 'abc_-1' });
  });
});

describe('challenge stores', () => {
  it('looks up only base64url tokens', () => {
    expect(isToken('abc-_09')).toBe(true);
    expect(isToken('../etc')).toBe(false);
    expect(isToken('')).toBe(false);
  });

  it('keeps tokens in memory until deleted', () => {
    const store = new MemoryChallenges();
    store.set('t', 't.key');
    expect(store.get('t')).toBe('t.key');
    store.delete('t');
    expect(store.get('t')).toBeUndefined();
  });
});
