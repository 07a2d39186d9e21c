import { STATUS_CODES } from 'node:http';

/*
 * The bytes of a piece of a message lb writes, put together in one Buffer so that they leave in one
 * socket write (no cork, no writev of strings and Buffers): what precedes the piece (a response head
 * not yet sent, in latin1 as every head lb writes), the piece itself, framed as `frame` decided.
 */

/**
 * `prefix` (latin1, may be '') followed by `data`, as a chunk of a chunked body when `chunked`
 * (`<size in hex>\r\n<data>\r\n`), else as they are.
 */
export function bodyPiece(prefix: string, data: Buffer, chunked: boolean): Buffer {
  const size = chunked ? data.length.toString(16) + '\r\n' : '';
  const start = prefix.length + size.length;
  const out = Buffer.allocUnsafe(start + data.length + (chunked ? 2 : 0));
  if (prefix.length > 0) out.write(prefix, 0, 'latin1');
  if (chunked) {
    out.write(size, prefix.length, 'latin1');
    out[out.length - 2] = 13;
    out[out.length - 1] = 10;
  }
  data.copy(out, start);
  return out;
}

const STATUS_LINES: string[] = [];

/** `HTTP/1.1 <status> <reason>\r\n`, made once per status code. */
export function statusLine(status: number): string {
  return (STATUS_LINES[status] ??= 'HTTP/1.1 ' + status + ' ' + (STATUS_CODES[status] ?? 'Unknown') + '\r\n');
}
