/**
 * String formats used by the JSON Resume schema v1.0.0
 * (https://github.com/jsonresume/resume-schema, `schema.json`).
 */

/** The schema's `#/definitions/iso8601` pattern, verbatim: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`. */
export const ISO8601_PATTERN =
  /^([1-2][0-9]{3}-[0-1][0-9]-[0-3][0-9]|[1-2][0-9]{3}-[0-1][0-9]|[1-2][0-9]{3})$/;

// ---------------------------------------------------------------------------
// `format: "uri"` — an absolute URI per RFC 3986 §3 (scheme required,
// fragment allowed). Built from the RFC's ABNF so each piece stays readable.
// ---------------------------------------------------------------------------
const PCT = '%[0-9a-f]{2}';
const UNRESERVED = "a-z0-9\\-._~";
const SUB_DELIMS = "!$&'()*+,;=";
const PCHAR = `(?:[${UNRESERVED}${SUB_DELIMS}:@]|${PCT})`;
const H16 = '[0-9a-f]{1,4}';
const DEC_OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = `${DEC_OCTET}(?:\\.${DEC_OCTET}){3}`;
const LS32 = `(?:${H16}:${H16}|${IPV4})`;
/** RFC 3986 IPv6address: up to 7 leading h16 before "::", then the remaining fixed tail. */
const IPV6 = [
  `(?:${H16}:){6}${LS32}`,
  ...[5, 4, 3, 2, 1, 0, -1, -2].map((tail, i) => {
    const head = i === 0 ? '' : `(?:(?:${H16}:){0,${i - 1}}${H16})?`;
    const rest = tail >= 0 ? `(?:${H16}:){${tail}}${LS32}` : tail === -1 ? H16 : '';
    return `${head}::${rest}`;
  }),
].join('|');
const IP_LITERAL = `\\[(?:${IPV6}|v[0-9a-f]+\\.[${UNRESERVED}${SUB_DELIMS}:]+)\\]`;
const REG_NAME = `(?:[${UNRESERVED}${SUB_DELIMS}]|${PCT})*`;
const USERINFO = `(?:[${UNRESERVED}${SUB_DELIMS}:]|${PCT})*`;
const AUTHORITY = `(?:${USERINFO}@)?(?:${IP_LITERAL}|${REG_NAME})(?::\\d*)?`;
const SEGMENTS = `(?:/${PCHAR}*)*`;
const HIER_PART = `(?://${AUTHORITY}${SEGMENTS}|/(?:${PCHAR}+${SEGMENTS})?|${PCHAR}+${SEGMENTS}|)`;
const QUERY_OR_FRAGMENT = `(?:${PCHAR}|[/?])*`;
const URI_PATTERN = new RegExp(
  `^[a-z][a-z0-9+\\-.]*:${HIER_PART}(?:\\?${QUERY_OR_FRAGMENT})?(?:#${QUERY_OR_FRAGMENT})?$`,
  'i',
);

// ---------------------------------------------------------------------------
// `format: "email"` — RFC 5321 Mailbox with a dot-atom local part and a
// dotted host name (the same acceptance as the ajv "full" email format the
// upstream schema package validates with).
// ---------------------------------------------------------------------------
const ATEXT = "[a-z0-9!#$%&'*+/=?^_`{|}~-]+";
const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const EMAIL_PATTERN = new RegExp(`^${ATEXT}(?:\\.${ATEXT})*@(?:${LABEL}\\.)+${LABEL}$`, 'i');

export const isIso8601 = (s: string): boolean => ISO8601_PATTERN.test(s);
export const isUri = (s: string): boolean => URI_PATTERN.test(s);
export const isEmail = (s: string): boolean => EMAIL_PATTERN.test(s);
