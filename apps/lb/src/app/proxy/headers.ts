/*
 * Header handling on the hot path: one pass over the raw header list in each direction, no header
 * objects. Names are only lower-cased when their length matches one lb cares about.
 */

export enum Kind {
  Other,
  /** Hop-by-hop or consumed by lb: never forwarded. */
  Drop,
  Connection,
  Host,
  ContentLength,
  TransferEncoding,
  ForwardedFor,
  ForwardedProto,
  ForwardedHost,
  RequestId,
  Expect,
  Date,
}

const BY_NAME = new Map<string, Kind>(Object.entries({
  te: Kind.Drop,
  host: Kind.Host,
  date: Kind.Date,
  expect: Kind.Expect, // answered by lb itself (100 Continue or 417), never forwarded
  trailer: Kind.Drop,
  upgrade: Kind.Drop,
  connection: Kind.Connection,
  'keep-alive': Kind.Drop,
  'x-request-id': Kind.RequestId,
  'content-length': Kind.ContentLength,
  'x-forwarded-for': Kind.ForwardedFor,
  'x-forwarded-host': Kind.ForwardedHost,
  'proxy-connection': Kind.Drop,
  'transfer-encoding': Kind.TransferEncoding,
  'x-forwarded-proto': Kind.ForwardedProto,
  'proxy-authenticate': Kind.Drop,
  'proxy-authorization': Kind.Drop,
}));

/** By name length: whether any name above has it (most headers are ruled out without lower-casing). */
const LENGTHS = new Uint8Array(64);
for (const name of BY_NAME.keys()) LENGTHS[name.length] = 1;

export function classify(name: string): Kind {
  return LENGTHS[name.length] === 1 ? (BY_NAME.get(name.toLowerCase()) ?? Kind.Other) : Kind.Other;
}

/** Extra header names a Connection header lists (beyond close / keep-alive / upgrade), lower-cased; null if none. */
export function connectionListed(value: string): Set<string> | null {
  // The usual values, without allocating.
  if (value.length <= 10 && (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'Close')) return null;
  let extra: Set<string> | null = null;
  for (const token of value.toLowerCase().split(',')) {
    const name = token.trim();
    if (name !== '' && name !== 'close' && name !== 'keep-alive' && name !== 'upgrade') (extra ??= new Set()).add(name);
  }
  return extra;
}

/** A backend's response header block as lb sends it on, and what framing it already carries. */
export interface ResponseHeaders {
  /** `Name: value\r\n` lines. */
  lines: string;
  contentLength: boolean;
  date: boolean;
}

/**
 * A backend's response headers as sent on to the client: hop-by-hop ones (and those the response's
 * Connection header names) removed, the request id set to lb's. Framing (chunked, Connection) is
 * the client connection's business.
 */
export function responseHeaders(raw: string[], requestId: string): ResponseHeaders {
  let lines = '';
  let contentLength = false;
  let date = false;
  let listed: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const kind = classify(raw[i]);
    if (kind === Kind.Other || kind === Kind.Host || kind === Kind.ForwardedFor || kind === Kind.ForwardedHost || kind === Kind.ForwardedProto || kind === Kind.Expect) {
      lines += raw[i] + ': ' + raw[i + 1] + '\r\n';
    } else if (kind === Kind.ContentLength) {
      contentLength = true;
      lines += raw[i] + ': ' + raw[i + 1] + '\r\n';
    } else if (kind === Kind.Date) {
      date = true;
      lines += raw[i] + ': ' + raw[i + 1] + '\r\n';
    } else if (kind === Kind.Connection) {
      listed = connectionListed(raw[i + 1]);
    }
  }
  if (listed !== null) {
    lines = dropListed(lines, listed);
    contentLength &&= !listed.has('content-length');
    date &&= !listed.has('date');
  }
  return { lines: lines + 'X-Request-Id: ' + requestId + '\r\n', contentLength, date };
}

/** The head of the request lb sends to a backend, and how its body is framed. */
export interface UpstreamRequest {
  head: string;
  requestId: string;
  hasBody: boolean;
  /** The body arrives chunked and is sent on chunked. */
  chunked: boolean;
  /** The client's Host header. */
  host: string | undefined;
  /** The client's Expect header, if any (lb answers it; it is not forwarded). */
  expect: string | undefined;
}

/** How a data plane treats the X-Forwarded-* and x-request-id headers it receives. */
export interface ForwardingPolicy {
  /** Whether the peer is a trusted proxy, so its X-Forwarded-* headers are kept. */
  trusts(address: string): boolean;
  /** Keeps a well-formed incoming request id or makes one. */
  requestId(given: string | undefined): string;
}

export interface Forwarded {
  for: string;
  proto: string;
  host: string | undefined;
}

/**
 * The X-Forwarded-* values to send: a trusted peer's are kept (its address appended to the -For
 * chain), anyone else's are replaced by what lb sees itself.
 */
export function forwarded(address: string, trusted: boolean, given: Partial<Forwarded>, host: string | undefined): Forwarded {
  if (!trusted) return { for: address, proto: 'http', host };
  return { for: given.for === undefined ? address : given.for + ', ' + address, proto: given.proto ?? 'http', host: given.host ?? host };
}

/**
 * Builds the upstream request head from the client's raw headers: hop-by-hop headers removed,
 * X-Forwarded-For appended (or started afresh when the peer is not a trusted proxy), -Proto and
 * -Host set, the request id kept or made. Null when the body's transfer coding is not plain
 * `chunked` (lb cannot re-frame it faithfully): the caller answers 400.
 */
export function buildRequest(method: string, url: string, raw: string[], address: string, policy: ForwardingPolicy): UpstreamRequest | null {
  let lines = '';
  let host: string | undefined;
  let forwardedFor: string | undefined;
  let forwardedProto: string | undefined;
  let forwardedHost: string | undefined;
  let givenId: string | undefined;
  let transferEncoding: string | undefined;
  let expect: string | undefined;
  let contentLength = false;
  let listed: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    switch (classify(name)) {
      case Kind.Other:
      case Kind.Date:
        lines += name + ': ' + value + '\r\n';
        break;
      case Kind.Expect:
        expect = expect === undefined ? value : expect + ', ' + value;
        break;
      case Kind.Host:
        host = value;
        lines += name + ': ' + value + '\r\n';
        break;
      case Kind.ContentLength:
        contentLength = value !== '0';
        lines += name + ': ' + value + '\r\n';
        break;
      case Kind.Connection:
        listed = connectionListed(value);
        break;
      case Kind.TransferEncoding:
        transferEncoding = transferEncoding === undefined ? value : transferEncoding + ', ' + value;
        break;
      case Kind.ForwardedFor:
        forwardedFor = forwardedFor === undefined ? value : forwardedFor + ', ' + value;
        break;
      case Kind.ForwardedProto:
        forwardedProto ??= value;
        break;
      case Kind.ForwardedHost:
        forwardedHost ??= value;
        break;
      case Kind.RequestId:
        givenId ??= value;
        break;
    }
  }
  const chunked = transferEncoding !== undefined;
  if (chunked && transferEncoding?.trim().toLowerCase() !== 'chunked') return null;
  if (listed !== null) lines = dropListed(lines, listed);
  const requestId = policy.requestId(givenId);
  const given = forwardedFor !== undefined || forwardedProto !== undefined || forwardedHost !== undefined;
  const f = forwarded(address, given && policy.trusts(address), { for: forwardedFor, proto: forwardedProto, host: forwardedHost }, host);
  let head = method + ' ' + url + ' HTTP/1.1\r\n' + lines + 'X-Forwarded-For: ' + f.for + '\r\nX-Forwarded-Proto: ' + f.proto + '\r\n';
  if (f.host !== undefined) head += 'X-Forwarded-Host: ' + f.host + '\r\n';
  head += 'X-Request-Id: ' + requestId + '\r\n' + (chunked ? 'Transfer-Encoding: chunked\r\n\r\n' : '\r\n');
  return { head, requestId, hasBody: chunked || contentLength, chunked, host, expect };
}

/** Removes the header lines a Connection header named (rare: the slow path). */
function dropListed(lines: string, listed: Set<string>): string {
  return lines
    .split('\r\n')
    .filter((line) => line !== '' && !listed.has(line.slice(0, line.indexOf(':')).toLowerCase()))
    .map((line) => line + '\r\n')
    .join('');
}
