import { Body, contentLength, frame, type Received } from './framing';

const request = (m: Partial<Received>): Received => ({ kind: 'request', contentLength: undefined, transferEncoding: undefined, http11: true, ...m });
const response = (m: Partial<Received>): Received => ({ kind: 'response', contentLength: undefined, transferEncoding: undefined, http11: true, clientHttp11: true, status: 200, ...m });

describe('framing: what lb sends frames exactly what it forwards', () => {
  it.each([
    ['5', 5],
    ['005', 5],
    [' 7 ', 7],
    ['0', 0],
    ['5, 5', 5],
    ['5,05', 5],
  ])('reads Content-Length %j as %d', (value, n) => expect(contentLength(value)).toBe(n));

  it.each(['+5', '-1', '0x10', '5 5', '1_0', '5, 6', '', ',', '5,', '1e3', '9999999999999999'])('refuses Content-Length %j', (value) => {
    expect(contentLength(value)).toBeNull();
    expect(frame(request({ contentLength: value }))).toEqual({ error: 'invalid Content-Length' });
  });

  it('frames requests by their normalised length, chunked, or not at all', () => {
    expect(frame(request({ contentLength: '0012' }))).toEqual({ header: 'Content-Length: 12\r\n', body: Body.Length, length: 12 });
    expect(frame(request({ contentLength: '0' }))).toEqual({ header: 'Content-Length: 0\r\n', body: Body.None, length: 0 });
    expect(frame(request({ transferEncoding: 'chunked' }))).toEqual({ header: 'Transfer-Encoding: chunked\r\n', body: Body.Chunked, length: 0 });
    expect(frame(request({}))).toEqual({ header: '', body: Body.None, length: 0 });
  });

  it.each([
    [{ transferEncoding: 'chunked, identity' }, 'unsupported transfer coding'],
    [{ transferEncoding: 'chunked, chunked' }, 'unsupported transfer coding'],
    [{ transferEncoding: 'xchunked' }, 'unsupported transfer coding'],
    [{ transferEncoding: 'gzip, chunked' }, 'unsupported transfer coding'],
    [{ transferEncoding: 'chunked', http11: false }, 'Transfer-Encoding in an HTTP/1.0 message'],
    [{ transferEncoding: 'chunked', contentLength: '3' }, 'both Content-Length and Transfer-Encoding'],
  ])('refuses the request framing %j', (m, error) => expect(frame(request(m))).toEqual({ error }));

  it('frames an upgrade without a body, and refuses one with a body', () => {
    expect(frame({ ...request({ contentLength: '0' }), kind: 'upgrade' })).toEqual({ header: '', body: Body.None, length: 0 });
    expect(frame({ ...request({ contentLength: '1' }), kind: 'upgrade' })).toEqual({ error: 'an upgrade request must not carry a body' });
    expect(frame({ ...request({ transferEncoding: 'chunked' }), kind: 'upgrade' })).toEqual({ error: 'an upgrade request must not carry a body' });
  });

  it('frames responses for the client: length, chunked for HTTP/1.1, the close for HTTP/1.0, nothing where no body is allowed', () => {
    expect(frame(response({ contentLength: '3' }))).toEqual({ header: 'Content-Length: 3\r\n', body: Body.Length, length: 3 });
    expect(frame(response({ transferEncoding: 'chunked' }))).toMatchObject({ body: Body.Chunked });
    expect(frame(response({}))).toMatchObject({ body: Body.Chunked, header: 'Transfer-Encoding: chunked\r\n' });
    expect(frame(response({ clientHttp11: false }))).toEqual({ header: '', body: Body.Close, length: 0 });
    expect(frame(response({ transferEncoding: 'chunked', clientHttp11: false }))).toMatchObject({ body: Body.Close });
    expect(frame(response({ status: 204, contentLength: '3' }))).toEqual({ header: '', body: Body.None, length: 0 });
    expect(frame(response({ status: 304, contentLength: '3' }))).toEqual({ header: 'Content-Length: 3\r\n', body: Body.None, length: 3 });
    expect(frame(response({ toHead: true, transferEncoding: 'chunked' }))).toEqual({ header: '', body: Body.None, length: 0 });
    expect(frame(response({ contentLength: '3, 4' }))).toEqual({ error: 'invalid Content-Length' });
    expect(frame(response({ transferEncoding: 'gzip' }))).toEqual({ error: 'unsupported transfer coding' });
  });
});
