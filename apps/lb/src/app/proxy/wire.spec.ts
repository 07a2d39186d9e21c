import { bodyPiece, statusLine } from './wire';

describe('wire: a piece of a message in one Buffer', () => {
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n';

  it('puts a pending head before a piece of a body as it is', () => {
    expect(bodyPiece(head, Buffer.from('hello'), false).toString('latin1')).toBe(head + 'hello');
    expect(bodyPiece('', Buffer.from('hello'), false).toString('latin1')).toBe('hello');
  });

  it('frames a chunk of a chunked body: size in hex, CRLF, the bytes, CRLF', () => {
    const data = Buffer.alloc(300, 'y');
    expect(bodyPiece('', data, true).toString('latin1')).toBe('12c\r\n' + 'y'.repeat(300) + '\r\n');
    expect(bodyPiece('HEAD\r\n\r\n', Buffer.from('ab'), true).toString('latin1')).toBe('HEAD\r\n\r\n2\r\nab\r\n');
  });

  it('keeps binary bytes and latin1 header bytes exactly', () => {
    const data = Buffer.from([0, 255, 13, 10, 128]);
    const out = bodyPiece('X: \xe9\r\n\r\n', data, false);
    expect([...out]).toEqual([88, 58, 32, 0xe9, 13, 10, 13, 10, 0, 255, 13, 10, 128]);
  });

  it('writes status lines with their reason phrase, the same string each time', () => {
    expect(statusLine(200)).toBe('HTTP/1.1 200 OK\r\n');
    expect(statusLine(503)).toBe('HTTP/1.1 503 Service Unavailable\r\n');
    expect(statusLine(599)).toBe('HTTP/1.1 599 Unknown\r\n');
    expect(statusLine(404)).toBe(statusLine(404));
  });
});
