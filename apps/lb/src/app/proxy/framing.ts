/*
 * How every message lb sends is framed: requests to backends, responses to clients, upgrade requests.
 * One pure function decides, from the framing the received message carried (after the parser has
 * accepted it and every hop-by-hop header has been removed): lb never forwards a received
 * Content-Length or Transfer-Encoding line, it writes the one line this function gives, and then
 * exactly the body bytes the parser read under the received framing. What lb sends therefore always
 * frames exactly the bytes it forwards, whatever the received headers tried to say.
 */

/** How the body lb forwards is delimited. */
export enum Body {
  /** No body follows the head. */
  None,
  /** `Content-Length` bytes follow. */
  Length,
  /** The body is sent chunked (lb re-chunks what the parser decoded). */
  Chunked,
  /** The body ends when lb closes the connection (an HTTP/1.0 client without a length). */
  Close,
}

export interface Framing {
  /** The framing header line lb writes (`Content-Length: n\r\n`, `Transfer-Encoding: chunked\r\n`, or ''). */
  header: string;
  body: Body;
  /** The length lb forwards, for Body.Length (and what a bodiless response announces). */
  length: number;
}

/** A message lb cannot frame faithfully: the request gets 400, a backend's response 502. */
export interface FramingError {
  error: string;
}

/** The framing facts of a received message: its framing header values (every line, joined with ", "). */
export interface Received {
  kind: 'request' | 'upgrade' | 'response';
  contentLength: string | undefined;
  transferEncoding: string | undefined;
  /** The sender spoke HTTP/1.1 (1.0: no Transfer-Encoding allowed, RFC 9112 §6.1). */
  http11: boolean;
  /** Responses: the status code. */
  status?: number;
  /** Responses: the request was HEAD (no body, whatever the headers say). */
  toHead?: boolean;
  /** Responses: the client reads HTTP/1.1 (chunked); otherwise a body without a length ends at the close. */
  clientHttp11?: boolean;
}

/** Longest Content-Length lb forwards: beyond it, digits lose precision as numbers. */
const MAX_LENGTH_DIGITS = 15;

const NONE: Framing = { header: '', body: Body.None, length: 0 };
const CHUNKED: Framing = { header: 'Transfer-Encoding: chunked\r\n', body: Body.Chunked, length: 0 };
const CLOSE: Framing = { header: '', body: Body.Close, length: 0 };

/**
 * A Content-Length value as a number: one or more lines all holding the same run of digits (RFC
 * 9110 §8.6), surrounding whitespace aside; anything else (signs, hex, lists of different values,
 * inner spaces) is null.
 */
export function contentLength(value: string): number | null {
  // The usual case, without allocating: digits only.
  const n = value.length;
  let digits = n > 0 && n <= MAX_LENGTH_DIGITS;
  for (let i = 0; digits && i < n; i++) {
    const c = value.charCodeAt(i);
    digits = c >= 48 && c <= 57;
  }
  if (digits) return Number(value);
  let found: string | null = null;
  for (const item of value.split(',')) {
    const digits = item.trim();
    if (!/^[0-9]+$/.test(digits)) return null;
    const normal = digits.replace(/^0+(?=.)/, '');
    if (normal.length > MAX_LENGTH_DIGITS || (found !== null && found !== normal)) return null;
    found = normal;
  }
  return found === null ? null : Number(found);
}

/** The transfer coding is exactly `chunked` (case and surrounding whitespace aside). */
const isChunked = (value: string): boolean => value.trim().toLowerCase() === 'chunked';

export function frame(m: Received): Framing | FramingError {
  const cl = m.contentLength;
  const te = m.transferEncoding;
  if (cl !== undefined && te !== undefined) return { error: 'both Content-Length and Transfer-Encoding' };
  if (te !== undefined && !m.http11) return { error: 'Transfer-Encoding in an HTTP/1.0 message' };
  if (te !== undefined && !isChunked(te)) return { error: 'unsupported transfer coding' };
  const length = cl === undefined ? null : contentLength(cl);
  if (cl !== undefined && length === null) return { error: 'invalid Content-Length' };

  if (m.kind === 'upgrade') {
    // What follows an upgrade's head is the new protocol: a body would be taken for its first bytes.
    return te !== undefined || (length ?? 0) > 0 ? { error: 'an upgrade request must not carry a body' } : NONE;
  }
  if (m.kind === 'request') {
    if (te !== undefined) return CHUNKED;
    if (length === null) return NONE;
    return { header: 'Content-Length: ' + length + '\r\n', body: length === 0 ? Body.None : Body.Length, length };
  }
  const status = m.status ?? 200;
  if (status < 200 || status === 204) return NONE;
  if (m.toHead === true || status === 304) {
    // No body follows; the length a backend announces for it (the GET body's) is passed on.
    return length === null ? NONE : { header: 'Content-Length: ' + length + '\r\n', body: Body.None, length };
  }
  if (length !== null) return { header: 'Content-Length: ' + length + '\r\n', body: Body.Length, length };
  return m.clientHttp11 === true ? CHUNKED : CLOSE;
}

export const isFramingError = (f: Framing | FramingError): f is FramingError => 'error' in f;
