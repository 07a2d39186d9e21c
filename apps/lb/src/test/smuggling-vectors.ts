/*
 * Request-smuggling vectors, sent raw to lb: each says what the client must get (statuses, in order)
 * and exactly what bytes the backend must receive. The classes are those of published research
 * (PortSwigger's CL.TE / TE.CL / TE.TE desync cases, the HTTP Garden's parser discrepancies) plus
 * hop-by-hop abuse through Connection. Every request lb forwards carries `X-Request-Id: t1`, so the
 * forwarded bytes are fixed.
 */

/** What lb appends to every request it forwards from a client at 127.0.0.1 asking for Host `x`. */
const LB_LINES = 'X-Forwarded-For: 127.0.0.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: x\r\nX-Request-Id: t1\r\n';

/** The request line and end-to-end lines as a backend must receive them from lb, then lb's framing line and the body. */
export const forwarded = (requestLine: string, lines: string[], framing = '', body = ''): string =>
  requestLine + '\r\n' + lines.map((l) => l + '\r\n').join('') + LB_LINES + framing + '\r\n' + body;

export interface Vector {
  name: string;
  send: string;
  /** Final statuses the client gets, in order (interim 100 included where lb sends one). */
  client: number[];
  /** Exactly what the backend receives. */
  backend: string;
  /** lb closes the connection after answering. */
  closes?: boolean;
  /** Why HAProxy may deliver less than lb here (the differential test allows it). */
  stricterHaproxy?: string;
}

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
const len = (s: string) => Buffer.byteLength(s, 'latin1');
const chunk = (s: string) => len(s).toString(16) + '\r\n' + s + '\r\n';
const POST = 'POST / HTTP/1.1\r\nHost: x\r\nX-Request-Id: t1\r\n';
/** Enough header lines that the parser hands the head over in pieces. */
const MANY = Array.from({ length: 40 }, (_, i) => `X-H${i}: v`);
const refused = (name: string, send: string): Vector => ({ name, send, client: [400], backend: '', closes: true });

export const FIRST = 'GET /first HTTP/1.1\r\nHost: x\r\nX-Request-Id: t1\r\n\r\n';
export const FIRST_FORWARDED = forwarded('GET /first HTTP/1.1', ['Host: x']);

export const VECTORS: Vector[] = [
  // ---- Connection naming a framing or routing header (the reproduction first) ----
  refused('Connection names content-length (the reproduction)', `POST / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, content-length\r\nContent-Length: ${len(SMUGGLED)}\r\n\r\n${SMUGGLED}`),
  refused('Connection names Content-Length in capitals', `${POST}Connection: CONTENT-LENGTH\r\nContent-Length: ${len(SMUGGLED)}\r\n\r\n${SMUGGLED}`),
  refused('Connection names content-length among empty items and odd spacing', `${POST}Connection: ,\t, content-length\t ,,\r\nContent-Length: ${len(SMUGGLED)}\r\n\r\n${SMUGGLED}`),
  refused('a second Connection line names content-length', `${POST}Connection: keep-alive\r\nContent-Length: ${len(SMUGGLED)}\r\nConnection: Content-Length\r\n\r\n${SMUGGLED}`),
  refused('Connection names transfer-encoding', `${POST}Connection: transfer-encoding\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}0\r\n\r\n`),
  refused('Connection names host', 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close, Host\r\n\r\n'),
  refused('Connection on an upgrade names content-length', 'GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, Content-Length\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'),
  // ---- Host ----
  refused('two Host headers', 'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n'),
  refused('a Host header holding a list', 'GET / HTTP/1.1\r\nHost: x, y\r\n\r\n'),
  refused('no Host header in HTTP/1.1', 'GET / HTTP/1.1\r\nX-Request-Id: t1\r\n\r\n'),
  // ---- Transfer-Encoding ----
  refused('Transfer-Encoding: chunked, identity', `${POST}Transfer-Encoding: chunked, identity\r\n\r\n${chunk(SMUGGLED)}0\r\n\r\n`),
  refused('Transfer-Encoding: chunked on two lines', `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`),
  refused('Transfer-Encoding: xchunked', `${POST}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`),
  refused('Transfer-Encoding: identity', `${POST}Transfer-Encoding: identity\r\n\r\n0\r\n\r\n`),
  refused('Transfer-Encoding on HTTP/1.0', `POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(SMUGGLED)}0\r\n\r\n`),
  refused('Content-Length then Transfer-Encoding (CL.TE)', `${POST}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX`),
  refused('Transfer-Encoding then Content-Length (TE.CL)', `${POST}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n${chunk(SMUGGLED)}0\r\n\r\n`),
  refused('a space before the colon of Transfer-Encoding', `${POST}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n`),
  refused('Transfer-Encoding with a vertical tab', `${POST}Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n`),
  {
    name: 'Transfer-Encoding: chunked with trailing whitespace (valid: lb sends its own line)',
    send: `${POST}Transfer-Encoding: chunked \r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    client: [200],
    backend: forwarded('POST / HTTP/1.1', ['Host: x'], 'Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'Transfer-Encoding: Chunked after a tab (valid)',
    send: `${POST}Transfer-Encoding:\tChunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    client: [200],
    backend: forwarded('POST / HTTP/1.1', ['Host: x'], 'Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n'),
  },
  refused('a Content-Length in the chunked trailer', `${POST}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n`),
  {
    name: 'a chunked trailer is not forwarded',
    send: `${POST}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n`,
    client: [200],
    backend: forwarded('POST / HTTP/1.1', ['Host: x'], 'Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\n\r\n'),
  },
  {
    name: 'Transfer_Encoding is just another header; the chunk bytes after it are refused as a request',
    send: `${POST}Transfer_Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`,
    client: [200, 400],
    backend: forwarded('POST / HTTP/1.1', ['Host: x', 'Transfer_Encoding: chunked']),
    closes: true,
  },
  {
    name: 'trailer fields never reach the next request (one whose head the parser hands over in pieces)',
    send: `POST /admin?steal= HTTP/1.1\r\nHost: x\r\nX-Request-Id: t1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nZ\r\n0\r\nAuthorization: Bearer attacker\r\nHost: evil\r\n\r\n` +
      `GET /victim HTTP/1.1\r\nHost: x\r\nX-Request-Id: t1\r\n${MANY.map((l) => l + '\r\n').join('')}\r\n`,
    client: [200, 200],
    backend: forwarded('POST /admin?steal= HTTP/1.1', ['Host: x'], 'Transfer-Encoding: chunked\r\n', '1\r\nZ\r\n0\r\n\r\n') + forwarded('GET /victim HTTP/1.1', ['Host: x', ...MANY]),
  },
  // ---- chunk framing ----
  refused('a chunk size that is not hex', `${POST}Transfer-Encoding: chunked\r\n\r\nZ\r\nZZ\r\n0\r\n\r\n`),
  refused('a chunk size with an underscore', `${POST}Transfer-Encoding: chunked\r\n\r\n0_2e\r\n\r\n${SMUGGLED}`),
  refused('a negative chunk size', `${POST}Transfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n`),
  refused('a 0x chunk size', `${POST}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n`),
  refused('a chunk size that overflows', `${POST}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nx\r\n0\r\n\r\n`),
  refused('a bare CR before a chunk extension', `${POST}Transfer-Encoding: chunked\r\n\r\n2\r\r;a\r\n02\r\n0\r\n\r\n`),
  refused('a chunk line ending in a bare LF', `${POST}Transfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n`),
  refused('chunk data longer than its size', `${POST}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`),
  // ---- Content-Length ----
  refused('Content-Length: +5', `${POST}Content-Length: +5\r\n\r\nhello`),
  refused('Content-Length: -1', `${POST}Content-Length: -1\r\n\r\n`),
  refused('Content-Length: 0x5', `${POST}Content-Length: 0x5\r\n\r\nhello`),
  refused('Content-Length with a space inside', `${POST}Content-Length: 1 0\r\n\r\nhelloworld`),
  refused('Content-Length: 5, 5', `${POST}Content-Length: 5, 5\r\n\r\nhello`),
  refused('two Content-Length lines that agree', `${POST}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`),
  refused('two Content-Length lines that differ', `${POST}Content-Length: 5\r\nContent-Length: 40\r\n\r\nhello${SMUGGLED}`),
  refused('a Content-Length too long for lb', `${POST}Content-Length: 99999999999999999999\r\n\r\nhello`),
  refused('a space before the colon of Content-Length', `${POST}Content-Length : ${len(SMUGGLED)}\r\n\r\n${SMUGGLED}`),
  {
    name: 'Content-Length with leading zeros (sent on normalised)',
    send: `${POST}Content-Length: 005\r\n\r\nhello`,
    client: [200],
    backend: forwarded('POST / HTTP/1.1', ['Host: x'], 'Content-Length: 5\r\n', 'hello'),
  },
  {
    name: 'a GET whose body looks like a request stays a body',
    send: `GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: t1\r\nContent-Length: ${len(SMUGGLED)}\r\n\r\n${SMUGGLED}`,
    client: [200],
    backend: forwarded('GET / HTTP/1.1', ['Host: x'], `Content-Length: ${len(SMUGGLED)}\r\n`, SMUGGLED),
  },
  // ---- line ends and bytes in the head ----
  refused('bare LF line ends', 'GET / HTTP/1.1\nHost: x\n\n'),
  refused('a bare LF between two headers', 'GET / HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n'),
  refused('a NUL in a header value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n'),
  refused('a bare CR in a header value', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n'),
  refused('an obs-folded header', 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n'),
  refused('whitespace before the first header', 'GET / HTTP/1.1\r\n Host: x\r\n\r\n'),
  refused('a space before the colon of Host', 'GET / HTTP/1.1\r\nHost : x\r\n\r\n'),
  refused('a byte above 0x7f in a header name', 'GET / HTTP/1.1\r\nHost: x\r\n\xffoo: bar\r\n\r\n'),
  refused('a lower-case method', 'get / HTTP/1.1\r\nHost: x\r\n\r\n'),
  {
    name: 'two spaces in the request line (lb sends its own request line)',
    send: 'GET  / HTTP/1.1\r\nHost: x\r\nX-Request-Id: t1\r\n\r\n',
    client: [200],
    backend: forwarded('GET / HTTP/1.1', ['Host: x']),
  },
  refused('an absolute-form target', 'GET http://elsewhere/ HTTP/1.1\r\nHost: x\r\n\r\n'),
  refused('a fragment in the request target', 'GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n'),
  refused('no Host header in HTTP/1.0 (lb sends HTTP/1.1)', 'GET / HTTP/1.0\r\n\r\n'),
  { name: 'CONNECT', send: 'CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n', client: [405], backend: '', closes: true },
  // ---- Expect and upgrades ----
  {
    name: 'Expect: 100-continue with a body',
    send: `${POST}Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello`,
    client: [100, 200],
    backend: forwarded('POST / HTTP/1.1', ['Host: x'], 'Content-Length: 5\r\n', 'hello'),
  },
  { name: 'an unknown expectation', send: `${POST}Expect: 200-ok\r\nContent-Length: 5\r\n\r\nhello`, client: [417], backend: '', closes: true },
  refused('a WebSocket upgrade carrying a body', `GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nContent-Length: ${len(SMUGGLED)}\r\n\r\n${SMUGGLED}`),
  {
    name: 'Connection naming an end-to-end header drops just that header',
    send: `GET / HTTP/1.1\r\nHost: x\r\nX-Request-Id: t1\r\nConnection: keep-alive, X-Private\r\nX-Private: p\r\nX-Kept: k\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n\r\n`,
    client: [200],
    backend: forwarded('GET / HTTP/1.1', ['Host: x', 'X-Kept: k']),
  },
];

/** The vector behind a normal request on the same connection. */
export const pipelined = (v: Vector): Vector => ({
  ...v,
  name: `${v.name}, pipelined behind a GET`,
  send: FIRST + v.send,
  client: [200, ...v.client],
  backend: FIRST_FORWARDED + v.backend,
});
