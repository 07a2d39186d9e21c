import { Body } from './framing';
import { buildRequest, classify, ForwardingPolicy, isRefusal, Kind, responseHeaders, type Refusal, type UpstreamRequest } from './headers';

const policy = (trusted: string[] = []): ForwardingPolicy => ({
  trusts: (a) => trusted.includes(a),
  requestId: (given) => (given === 'good-id' ? given : 'new-id'),
});
const headOf = (r: UpstreamRequest | Refusal): string => {
  if (isRefusal(r)) throw new Error(r.error);
  return r.head;
};
const flat = (headers: Record<string, string>) => Object.entries(headers).flat();

describe('request and response headers', () => {
  it.each([
    ['Content-Length', Kind.ContentLength],
    ['content-length', Kind.ContentLength],
    ['CONTENT-LENGTH', Kind.ContentLength],
    ['cOnTeNt-LeNgTh', Kind.ContentLength],
    ['Transfer-Encoding', Kind.TransferEncoding],
    ['X-Forwarded-Proto', Kind.ForwardedProto],
    ['Proxy-Connection', Kind.Drop],
    ['X-Forwarded-Host', Kind.ForwardedHost],
    ['Keep-Alive', Kind.Drop],
    ['Connection', Kind.Connection],
    ['HOST', Kind.Host],
    ['Date', Kind.Date],
    ['te', Kind.Drop],
    ['X-Request-ID', Kind.RequestId],
  ])('classifies %s whatever its case', (name, kind) => expect(classify(name)).toBe(kind));

  it.each(['Content-Type', 'Content-Lengt', 'Content-Lengths', 'Content_Length', 'Hosts', 'Dat', 'X-Request-Ie', '', 'Content-Length '])('takes %j for an end-to-end header', (name) => {
    expect(classify(name)).toBe(Kind.Other);
  });

  it('strips hop-by-hop headers and those the Connection header names', () => {
    const req = buildRequest('GET', '/a?b=1', flat({ Host: 'site', Connection: 'keep-alive, X-Secret', 'X-Secret': 's', 'Keep-Alive': 'timeout=5', TE: 'trailers', 'Proxy-Authorization': 'Basic x', Upgrade: 'h2c', Accept: '*/*' }), '10.0.0.9', policy());
    expect(headOf(req)).toBe('GET /a?b=1 HTTP/1.1\r\nHost: site\r\nAccept: */*\r\nX-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: site\r\nX-Request-Id: new-id\r\n\r\n');
    expect(req).toMatchObject({ hasBody: false, chunked: false, requestId: 'new-id', headers: null });
  });

  it('keeps a trusted proxy’s X-Forwarded-* (appending the peer) and replaces anyone else’s', () => {
    const headers = flat({ Host: 'inner', 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'www.example.org', 'X-Request-Id': 'good-id' });
    const trusted = headOf(buildRequest('GET', '/', headers, '10.0.0.2', policy(['10.0.0.2'])));
    expect(trusted).toContain('X-Forwarded-For: 203.0.113.7, 10.0.0.2\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: www.example.org\r\nX-Request-Id: good-id\r\n');
    const spoofed = headOf(buildRequest('GET', '/', headers, '198.51.100.1', policy(['10.0.0.2'])));
    expect(spoofed).toContain('X-Forwarded-For: 198.51.100.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: inner\r\n');
    expect(spoofed).not.toContain('203.0.113.7');
  });

  it('frames bodies with lb’s own framing line: the received one is never forwarded', () => {
    const sized = buildRequest('POST', '/', flat({ 'Content-Length': '005', Host: 'h' }), '::1', policy());
    expect(sized).toMatchObject({ hasBody: true, chunked: false });
    expect('head' in sized && sized.head).toBe('POST / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: ::1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\nX-Request-Id: new-id\r\nContent-Length: 5\r\n\r\n');
    const chunked = buildRequest('POST', '/', flat({ Host: 'h', 'Transfer-Encoding': 'Chunked ' }), '::1', policy());
    expect(chunked).toMatchObject({ hasBody: true, chunked: true });
    expect('head' in chunked && chunked.head.endsWith('X-Request-Id: new-id\r\nTransfer-Encoding: chunked\r\n\r\n')).toBe(true);
    expect(buildRequest('POST', '/', flat({ Host: 'h', 'Transfer-Encoding': 'gzip, chunked' }), '::1', policy())).toEqual({ error: 'unsupported transfer coding' });
    expect(buildRequest('POST', '/', flat({ Host: 'h', 'Transfer-Encoding': 'chunked' }), '::1', policy(), false)).toEqual({ error: 'Transfer-Encoding in an HTTP/1.0 message' });
  });

  it('refuses a Connection header naming a framing or routing header, on any of its lines', () => {
    for (const connection of [['keep-alive, content-length'], ['Keep-Alive', ' ,, Transfer-Encoding '], ['close', 'HOST']]) {
      const headers = ['Host', 'h', 'Content-Length', '3', ...connection.flatMap((c) => ['Connection', c])];
      const refused = buildRequest('POST', '/', headers, '::1', policy());
      expect(refused).toHaveProperty('error', expect.stringMatching(/^the Connection header names (content-length|transfer-encoding|host)$/));
      expect(buildRequest('GET', '/', headers, '::1', policy(), true, true)).toHaveProperty('error');
      expect(responseHeaders(headers.slice(2), 'r', 200, { bodiless: false, http11: true })).toHaveProperty('error');
    }
  });

  it('refuses two Host headers and a Host that is not one authority', () => {
    expect(buildRequest('GET', '/', flat({ Host: 'a', host: 'b' }).concat(['HOST', 'c']), '::1', policy())).toEqual({ error: 'more than one Host header' });
    expect(buildRequest('GET', '/', flat({ Host: 'a, b' }), '::1', policy())).toHaveProperty('error');
    expect(buildRequest('GET', '/', flat({ Host: 'a b' }), '::1', policy())).toHaveProperty('error');
  });

  it('builds an upgrade with the same policy, keeping Upgrade and refusing a body', () => {
    const up = buildRequest('GET', '/ws', flat({ Host: 'h', Connection: 'Upgrade, X-Hop', Upgrade: 'websocket', 'X-Hop': '1', 'Sec-WebSocket-Key': 'k', 'Content-Length': '0' }), '::1', policy(), true, true);
    expect('headers' in up && up.headers).toEqual([['Host', 'h'], ['Sec-WebSocket-Key', 'k'], ['X-Forwarded-For', '::1'], ['X-Forwarded-Proto', 'http'], ['X-Forwarded-Host', 'h'], ['X-Request-Id', 'new-id'], ['Connection', 'Upgrade'], ['Upgrade', 'websocket']]);
    expect(buildRequest('GET', '/ws', flat({ Host: 'h', Connection: 'Upgrade', Upgrade: 'websocket', 'Content-Length': '4' }), '::1', policy(), true, true)).toEqual({ error: 'an upgrade request must not carry a body' });
    // An upgrade request with a body reaches the data plane as a plain request: refused as well.
    expect(buildRequest('POST', '/ws', flat({ Host: 'h', Connection: 'upgrade', Upgrade: 'websocket', 'Content-Length': '4' }), '::1', policy())).toEqual({ error: 'an upgrade request must not carry a body' });
  });

  it('removes hop-by-hop response headers and adds the request id', () => {
    const out = responseHeaders(flat({ 'Content-Type': 'text/plain', Connection: 'keep-alive, X-Hop', 'X-Hop': '1', 'Keep-Alive': 'timeout=5', 'Transfer-Encoding': 'chunked', 'X-Request-Id': 'other', 'Set-Cookie': 'a=b' }), 'rid-1', 200, { bodiless: false, http11: true });
    expect(out).toEqual({ lines: 'Content-Type: text/plain\r\nSet-Cookie: a=b\r\nX-Request-Id: rid-1\r\nTransfer-Encoding: chunked\r\n', framing: { header: 'Transfer-Encoding: chunked\r\n', body: Body.Chunked, length: 0 }, date: false });
  });

  it('frames a response from what it carried, for the client that asked', () => {
    const ctx = { bodiless: false, http11: true };
    expect(responseHeaders(flat({ 'content-length': '3', Date: 'Tue, 01 Dec 2026 10:00:00 GMT' }), 'r', 200, ctx)).toMatchObject({ lines: 'Date: Tue, 01 Dec 2026 10:00:00 GMT\r\nX-Request-Id: r\r\nContent-Length: 3\r\n', date: true });
    // No length, an HTTP/1.0 client: the body ends at the close.
    expect(responseHeaders([], 'r', 200, { bodiless: false, http11: false })).toMatchObject({ lines: 'X-Request-Id: r\r\n', framing: { body: Body.Close } });
    // HEAD: the announced length goes on, no body does.
    expect(responseHeaders(flat({ 'Content-Length': '10' }), 'r', 200, { bodiless: true, http11: true })).toMatchObject({ framing: { body: Body.None, header: 'Content-Length: 10\r\n' } });
    expect(responseHeaders(flat({ 'Content-Length': '3', 'Transfer-Encoding': 'chunked' }), 'r', 200, ctx)).toEqual({ error: 'both Content-Length and Transfer-Encoding' });
  });

  it('takes the Expect header out of the forwarded request and reports it', () => {
    const req = buildRequest('PUT', '/u', flat({ Host: 'h', Expect: '100-continue', 'Content-Length': '2' }), '::1', policy());
    expect(req).toMatchObject({ expect: '100-continue', hasBody: true });
    expect(headOf(req)).not.toMatch(/expect/i);
  });

  it('sets X-Forwarded-Proto to the connection\'s scheme (https over TLS), replacing an untrusted client\'s, keeping a trusted proxy\'s', () => {
    const headers = flat({ Host: 'h', 'X-Forwarded-Proto': 'http' });
    expect(headOf(buildRequest('GET', '/', headers, '198.51.100.1', policy(), true, false, true))).toContain('\r\nX-Forwarded-Proto: https\r\n');
    expect(headOf(buildRequest('GET', '/', flat({ Host: 'h', 'X-Forwarded-Proto': 'https' }), '198.51.100.1', policy(), true, false, false))).toContain('\r\nX-Forwarded-Proto: http\r\n');
    expect(headOf(buildRequest('GET', '/', flat({ Host: 'h' }), '10.0.0.2', policy(['10.0.0.2']), true, false, true))).toContain('\r\nX-Forwarded-Proto: https\r\n');
    expect(headOf(buildRequest('GET', '/', headers, '10.0.0.2', policy(['10.0.0.2']), true, false, true))).toContain('\r\nX-Forwarded-Proto: http\r\n');
  });
});
