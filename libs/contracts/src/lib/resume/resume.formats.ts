/*
 * String formats of the JSON Resume schema as `@jsonresume/schema` 1.3.x checks them. Its
 * `validate()` runs the `jsonschema` package, whose formats are regular expressions
 * (`FORMAT_REGEXPS` in jsonschema 1.5's lib/helpers.js) and whose `pattern` is compiled with the
 * `u` flag. Vita uses the same expressions verbatim, so a string passes here exactly when it
 * passes there; apps/api's reference.e2e.spec.ts holds Vita's verdicts to the package's own.
 */

/** The schema's `#/definitions/iso8601` pattern, verbatim: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`. */
export const ISO8601_PATTERN =
  /^([1-2][0-9]{3}-[0-1][0-9]-[0-3][0-9]|[1-2][0-9]{3}-[0-1][0-9]|[1-2][0-9]{3})$/u;

/**
 * `format: "uri"`: a scheme (a letter, then letters, digits, `+`, `-` or `.`), a colon, then
 * anything without white space. Looser than RFC 3986 (`https://exämple.com` and `http://[::1`
 * pass): JSON Resume's users validate with this, and web links only http(s), mailto and tel URLs.
 */
const URI_PATTERN = /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]*$/;

/**
 * `format: "email"`: a dot-atom local part, `@`, then a dotted host name (labels of at most 63
 * characters, none starting or ending with `-`) or a bracketed IPv4 address.
 */
const EMAIL_PATTERN =
  // eslint-disable-next-line no-useless-escape -- verbatim from jsonschema, escapes and all, so that it compares equal
  /^(?:[\w\!\#\$\%\&\'\*\+\-\/\=\?\^\`\{\|\}\~]+\.)*[\w\!\#\$\%\&\'\*\+\-\/\=\?\^\`\{\|\}\~]+@(?:(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-](?!\.)){0,61}[a-zA-Z0-9]?\.)+[a-zA-Z0-9](?:[a-zA-Z0-9\-](?!$)){0,61}[a-zA-Z0-9]?)|(?:\[(?:(?:[01]?\d{1,2}|2[0-4]\d|25[0-5])\.){3}(?:[01]?\d{1,2}|2[0-4]\d|25[0-5])\]))$/;

export const isIso8601 = (s: string): boolean => ISO8601_PATTERN.test(s);
export const isUri = (s: string): boolean => URI_PATTERN.test(s);
export const isEmail = (s: string): boolean => EMAIL_PATTERN.test(s);
