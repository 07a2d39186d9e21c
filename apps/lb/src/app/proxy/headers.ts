import { Body, frame, isFramingError, type Framing } from './framing';

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
  /** Forwarded on upgrades only. */
  Upgrade,
}

const BY_NAME = new Map<string, Kind>(Object.entries({
  te: Kind.Drop,
  host: Kind.Host,
  date: Kind.Date,
  expect: Kind.Expect, // answered by lb itself (100 Continue or 417), never forwarded
  trailer: Kind.Drop,
  upgrade: Kind.Upgrade,
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

/** The names above by length (most headers are ruled out by their length alone). */
const BY_LENGTH: { names: string[]; kinds: Kind[] }[] = [];
for (const [name, kind] of BY_NAME) {
  const same = (BY_LENGTH[name.length] ??= { names: [], kinds: [] });
  same.names.push(name);
  same.kinds.push(kind);
}

/** Whether `name` is `lower` but for the case of its ASCII letters (header names are ASCII tokens). */
function sameName(name: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 65 && c <= 90 ? c | 32 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** What a header is to lb, by its name in any case (compared in place: no lower-cased copy, no hashing). */
export function classify(name: string): Kind {
  const same = BY_LENGTH[name.length];
  if (same === undefined) return Kind.Other;
  for (let i = 0; i < same.names.length; i++) if (sameName(name, same.names[i])) return same.kinds[i];
  return Kind.Other;
}

/**
 * The one hop-by-hop policy, for requests, responses and upgrades alike. A Connection header (any
 * number of lines, any case, odd spacing, empty list items) names headers that are removed before a
 * message goes on; it may never name a header lb needs for framing or routing.
 */
const PROTECTED: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'host']);

/** Adds the header names a Connection value lists (beyond close / keep-alive / upgrade), lower-cased, to `into`. */
export function connectionListed(value: string, into: Set<string> | null): Set<string> | null {
  // The usual values, without allocating.
  if (value.length <= 10 && (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'Close')) return into;
  for (const token of value.toLowerCase().split(',')) {
    const name = token.trim();
    if (name !== '' && name !== 'close' && name !== 'keep-alive' && name !== 'upgrade') (into ??= new Set()).add(name);
  }
  return into;
}

const UPGRADE_TOKEN = /(?:^|,)[ \t]*upgrade[ \t]*(?:,|$)/i;

/** Why a Connection header's list cannot be obeyed (it names a framing or routing header), or null. */
function listsProtected(listed: Set<string>): string | null {
  for (const name of listed) if (PROTECTED.has(name)) return `the Connection header names ${name}`;
  return null;
}

/** A message lb refuses to forward: the reason, one line (the request gets 400, a response 502). */
export interface Refusal {
  error: string;
}

export const isRefusal = (x: object): x is Refusal => 'error' in x;

/** A backend's response header block as lb sends it on, and how its body is framed. */
export interface ResponseHeaders {
  /** `Name: value\r\n` lines, the framing header included. */
  lines: string;
  framing: Framing;
  date: boolean;
}

/** What a response's framing depends on besides its own headers. */
export interface ResponseContext {
  /** The request was HEAD. */
  bodiless: boolean;
  /** The client speaks HTTP/1.1. */
  http11: boolean;
}

/**
 * A backend's response headers as sent on to the client: hop-by-hop ones (and those the response's
 * Connection header names) removed, framing decided by `frame`, the request id set to lb's.
 */
export function responseHeaders(raw: string[], requestId: string, status: number, request: ResponseContext, http11 = true): ResponseHeaders | Refusal {
  let lines = '';
  let date = false;
  let contentLength: string | undefined;
  let transferEncoding: string | undefined;
  let listed: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const kind = classify(raw[i]);
    if (kind === Kind.Other || kind === Kind.Host || kind === Kind.ForwardedFor || kind === Kind.ForwardedHost || kind === Kind.ForwardedProto || kind === Kind.Expect) {
      lines += raw[i] + ': ' + raw[i + 1] + '\r\n';
    } else if (kind === Kind.Date) {
      date = true;
      lines += raw[i] + ': ' + raw[i + 1] + '\r\n';
    } else if (kind === Kind.ContentLength) {
      contentLength = contentLength === undefined ? raw[i + 1] : contentLength + ', ' + raw[i + 1];
    } else if (kind === Kind.TransferEncoding) {
      transferEncoding = transferEncoding === undefined ? raw[i + 1] : transferEncoding + ', ' + raw[i + 1];
    } else if (kind === Kind.Connection) {
      listed = connectionListed(raw[i + 1], listed);
    }
  }
  if (listed !== null) {
    const refused = listsProtected(listed);
    if (refused !== null) return { error: refused };
    lines = dropListed(lines, listed);
    date &&= !listed.has('date');
  }
  const framing = frame({ kind: 'response', contentLength, transferEncoding, http11, status, toHead: request.bodiless, clientHttp11: request.http11 });
  if (isFramingError(framing)) return framing;
  return { lines: lines + 'X-Request-Id: ' + requestId + '\r\n' + framing.header, framing, date };
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
  /** Upgrades: the end-to-end headers as name/value pairs, lb's own included (for http-proxy). */
  headers: [string, string][] | null;
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
export function forwarded(address: string, trusted: boolean, given: Partial<Forwarded>, host: string | undefined, tls = false): Forwarded {
  const proto = tls ? 'https' : 'http';
  if (!trusted) return { for: address, proto, host };
  return { for: given.for === undefined ? address : given.for + ', ' + address, proto: given.proto ?? proto, host: given.host ?? host };
}

/**
 * Builds the upstream request head from the client's raw headers: hop-by-hop headers removed,
 * X-Forwarded-For appended (or started afresh when the peer is not a trusted proxy), -Proto and
 * -Host set (-Proto `https` when the client came over TLS: `tls`), the request id kept or made, the body framed by `frame`. A request lb must not
 * forward (a Connection header naming a framing or routing header, more than one Host, framing it
 * cannot reproduce faithfully) is refused with the reason: the caller answers 400.
 */
export function buildRequest(method: string, url: string, raw: string[], address: string, policy: ForwardingPolicy, http11 = true, upgrade = false, tls = false): UpstreamRequest | Refusal {
  let lines = '';
  let host: string | undefined;
  let hosts = 0;
  let forwardedFor: string | undefined;
  let forwardedProto: string | undefined;
  let forwardedHost: string | undefined;
  let givenId: string | undefined;
  let transferEncoding: string | undefined;
  let contentLength: string | undefined;
  let expect: string | undefined;
  let upgradeTo: string | undefined;
  let connectionUpgrade = false;
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
        hosts++;
        lines += name + ': ' + value + '\r\n';
        break;
      case Kind.ContentLength:
        contentLength = contentLength === undefined ? value : contentLength + ', ' + value;
        break;
      case Kind.TransferEncoding:
        transferEncoding = transferEncoding === undefined ? value : transferEncoding + ', ' + value;
        break;
      case Kind.Connection:
        listed = connectionListed(value, listed);
        connectionUpgrade ||= UPGRADE_TOKEN.test(value);
        break;
      case Kind.Upgrade:
        upgradeTo = upgradeTo === undefined ? value : upgradeTo + ', ' + value;
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
  // RFC 9112 §3.2: exactly one Host, a single authority (lb sends HTTP/1.1, so an HTTP/1.0 request needs one too).
  if (hosts === 0) return { error: 'the Host header is missing' };
  if (hosts > 1) return { error: 'more than one Host header' };
  // RFC 9112 §3.2: the request target never carries a fragment.
  if (url.includes('#')) return { error: 'the request target has a fragment' };
  // (The parser has taken the whitespace around a value off already.)
  if (host !== undefined && /[\s,]/.test(host)) return { error: 'the Host header is not a single authority' };
  if (listed !== null) {
    const refused = listsProtected(listed);
    if (refused !== null) return { error: refused };
    lines = dropListed(lines, listed);
  }
  const framing = frame({ kind: upgrade ? 'upgrade' : 'request', contentLength, transferEncoding, http11 });
  if (isFramingError(framing)) return framing;
  // An upgrade the parser did not treat as one because a body came with it: neither is forwarded.
  if (!upgrade && connectionUpgrade && upgradeTo !== undefined && framing.body !== Body.None) return { error: 'an upgrade request must not carry a body' };
  const requestId = policy.requestId(givenId);
  const given = forwardedFor !== undefined || forwardedProto !== undefined || forwardedHost !== undefined;
  const f = forwarded(address, given && policy.trusts(address), { for: forwardedFor, proto: forwardedProto, host: forwardedHost }, host, tls);
  let own = 'X-Forwarded-For: ' + f.for + '\r\nX-Forwarded-Proto: ' + f.proto + '\r\n';
  if (f.host !== undefined) own += 'X-Forwarded-Host: ' + f.host + '\r\n';
  own += 'X-Request-Id: ' + requestId + '\r\n';
  if (upgrade) own += 'Connection: Upgrade\r\nUpgrade: ' + (upgradeTo ?? '') + '\r\n';
  const head = method + ' ' + url + ' HTTP/1.1\r\n' + lines + own + framing.header + '\r\n';
  return {
    head,
    requestId,
    hasBody: framing.body !== Body.None,
    chunked: framing.body === Body.Chunked,
    host,
    expect,
    headers: upgrade ? pairs(lines + own) : null,
  };
}

/** Header lines as name/value pairs. */
function pairs(lines: string): [string, string][] {
  return lines
    .split('\r\n')
    .filter((line) => line !== '')
    .map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon), line.slice(colon + 2)];
    });
}

/** Removes the header lines a Connection header named (rare: the slow path). */
function dropListed(lines: string, listed: Set<string>): string {
  return lines
    .split('\r\n')
    .filter((line) => line !== '' && !listed.has(line.slice(0, line.indexOf(':')).toLowerCase()))
    .map((line) => line + '\r\n')
    .join('');
}
