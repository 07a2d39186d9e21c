import { buildRequest, ForwardingPolicy, responseHeaders } from './headers';

const policy = (trusted: string[] = []): ForwardingPolicy => ({
  trusts: (a) => trusted.includes(a),
  requestId: (given) => (given === 'good-id' ? given : 'new-id'),
});
const flat = (headers: Record<string, string>) => Object.entries(headers).flat();

describe('request and response headers', () => {
  it('strips hop-by-hop headers and those the Connection header names', () => {
    const req = buildRequest('GET', '/a?b=1', flat({ Host: 'site', Connection: 'keep-alive, X-Secret', 'X-Secret': 's', 'Keep-Alive': 'timeout=5', TE: 'trailers', 'Proxy-Authorization': 'Basic x', Upgrade: 'h2c', Accept: '*/*' }), '10.0.0.9', policy());
    expect(req?.head).toBe('GET /a?b=1 HTTP/1.1\r\nHost: site\r\nAccept: */*\r\nX-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: site\r\nX-Request-Id: new-id\r\n\r\n');
    expect(req).toMatchObject({ hasBody: false, chunked: false, requestId: 'new-id' });
  });

  it('keeps a trusted proxy’s X-Forwarded-* (appending the peer) and replaces anyone else’s', () => {
    const headers = flat({ Host: 'inner', 'X-Forwarded-For': '203.0.113.7', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'www.example.org', 'X-Request-Id': 'good-id' });
    const trusted = buildRequest('GET', '/', headers, '10.0.0.2', policy(['10.0.0.2']))?.head;
    expect(trusted).toContain('X-Forwarded-For: 203.0.113.7, 10.0.0.2\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: www.example.org\r\nX-Request-Id: good-id\r\n');
    const spoofed = buildRequest('GET', '/', headers, '198.51.100.1', policy(['10.0.0.2']))?.head;
    expect(spoofed).toContain('X-Forwarded-For: 198.51.100.1\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: inner\r\n');
    expect(spoofed).not.toContain('203.0.113.7');
  });

  it('frames bodies: Content-Length as given, chunked re-chunked, other transfer codings refused', () => {
    expect(buildRequest('POST', '/', flat({ Host: 'h', 'Content-Length': '5' }), '::1', policy())).toMatchObject({ hasBody: true, chunked: false });
    const chunked = buildRequest('POST', '/', flat({ Host: 'h', 'Transfer-Encoding': 'chunked' }), '::1', policy());
    expect(chunked).toMatchObject({ hasBody: true, chunked: true });
    expect(chunked?.head.endsWith('Transfer-Encoding: chunked\r\n\r\n')).toBe(true);
    expect(buildRequest('POST', '/', flat({ Host: 'h', 'Transfer-Encoding': 'gzip, chunked' }), '::1', policy())).toBeNull();
  });

  it('removes hop-by-hop response headers and adds the request id', () => {
    const out = responseHeaders(flat({ 'Content-Type': 'text/plain', Connection: 'keep-alive, X-Hop', 'X-Hop': '1', 'Keep-Alive': 'timeout=5', 'Transfer-Encoding': 'chunked', 'X-Request-Id': 'other', 'Set-Cookie': 'a=b' }), 'rid-1');
    expect(out).toEqual({ lines: 'Content-Type: text/plain\r\nSet-Cookie: a=b\r\nX-Request-Id: rid-1\r\n', contentLength: false, date: false });
  });

  it('reports the framing and date a response already has', () => {
    expect(responseHeaders(flat({ 'content-length': '3', Date: 'Tue, 01 Dec 2026 10:00:00 GMT' }), 'r')).toMatchObject({ contentLength: true, date: true });
    // A Content-Length the Connection header lists is hop-by-hop: dropped, and the body is re-framed.
    const listed = responseHeaders(flat({ 'Content-Length': '3', Connection: 'content-length' }), 'r');
    expect(listed).toEqual({ lines: 'X-Request-Id: r\r\n', contentLength: false, date: false });
  });

  it('takes the Expect header out of the forwarded request and reports it', () => {
    const req = buildRequest('PUT', '/u', flat({ Host: 'h', Expect: '100-continue', 'Content-Length': '2' }), '::1', policy());
    expect(req).toMatchObject({ expect: '100-continue', hasBody: true });
    expect(req?.head).not.toMatch(/expect/i);
  });
});
