import { ISO8601_PATTERN, isIso8601, isResumeEmail, isResumeUri } from './index';

/*
 * The expected verdicts are @jsonresume/schema's (its validator's formats, verbatim in
 * resume.formats.ts); apps/api's reference.e2e.spec.ts compares with the package itself.
 */
describe('JSON Resume string formats', () => {
  it('uses the schema iso8601 pattern verbatim, with the u flag the validator compiles it with', () => {
    expect(ISO8601_PATTERN.source).toBe(
      '^([1-2][0-9]{3}-[0-1][0-9]-[0-3][0-9]|[1-2][0-9]{3}-[0-1][0-9]|[1-2][0-9]{3})$',
    );
    expect(ISO8601_PATTERN.flags).toBe('u');
  });

  // The pattern checks digit ranges, not calendar dates: month 19 and day 39 pass.
  it.each(['2014', '2014-06', '2014-06-29', '1000', '2999-12-31', '2023-19-39', '2020-00-00'])(
    'accepts the date %j',
    (s) => expect(isIso8601(s)).toBe(true),
  );

  it.each([
    '0999', '3000', '2014-6', '2014-06-2', '14-06-29', '2014/06/29', '2014-06-29T10:00:00',
    ' 2014', '2014-06-29\n', '2014-', '2014-06-', '2014-20-01', '2014-06-40', 'present', '', '２０１４',
  ])('rejects the date %j', (s) => expect(isIso8601(s)).toBe(false));

  // A scheme, a colon, and no white space: that is all the validator asks of a URI.
  it.each([
    'https://x.y/z', 'mailto:a@b.c', 'urn:isbn:0451450523', 'tel:+1-816-555-1212', 'file:///etc/hosts',
    'http://[::1]:8080/', 'ftp://user:pw@ftp.example.com/file.txt', 'https://example.com/a%20b?q=1&r=(2)#frag/x?y',
    'HTTPS://EXAMPLE.COM', 'git+ssh://git@example.com:22/repo.git', 'https://example.com:/', 'a:',
    'http://[::1', 'http://[1:2:3]/', 'https://example.com/%zz', 'https://example.com/<a>', 'https://example.com/#a#b',
    'https://exämple.com', 'javascript:alert(1)',
  ])('accepts the URI %j', (s) => expect(isResumeUri(s)).toBe(true));

  it.each([
    'not a url', '/foo', 'foo', 'example.com/x', '//example.com/x', 'https://exa mple.com', '1http://x', '+a:b',
    ' https://example.com', 'https://example.com\n', 'https://example.com/\u00a0', 'ht tp://x', ':x', '',
  ])('rejects the URI %j', (s) => expect(isResumeUri(s)).toBe(false));

  it.each([
    'ada@example.org', 'first.last+tag@sub.example.co.uk', "o'brien@example.ie", 'A_B@EXAMPLE.COM', 'x@1.2',
    'ada@[192.0.2.1]', 'ada@a-b.example', `ada@${'a'.repeat(63)}.example`,
  ])('accepts the e-mail address %j', (s) => expect(isResumeEmail(s)).toBe(true));

  it.each([
    'ada@', '@example.org', 'ada@localhost', 'ada example@example.org', 'ada@@example.org', 'ada..x@example.org',
    '.ada@example.org', 'ada@-example.org', 'ada@example-.org', 'ada@example..org', 'mailto:ada@example.org', '',
    'ünï@example.org', 'ada@exämple.org', 'ada@example.org.', '"ada"@example.org', `ada@${'a'.repeat(64)}.example`,
    'ada@[256.0.0.1]',
  ])('rejects the e-mail address %j', (s) => expect(isResumeEmail(s)).toBe(false));
});
