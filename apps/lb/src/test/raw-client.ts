import { connect } from 'node:net';

/** One response as a raw client read it. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawExchange {
  responses: RawResponse[];
  /** The server closed the connection. */
  closed: boolean;
  /** Bytes after the last complete response (a response cut short, or garbage). */
  rest: string;
}

/**
 * Splits raw response bytes into responses: 1xx interim ones, bodies by Content-Length or chunked,
 * a body without either running to the end (the connection's close).
 */
export function parseResponses(text: string, headRequests = 0): { responses: RawResponse[]; rest: string } {
  const responses: RawResponse[] = [];
  let at = 0;
  let heads = headRequests;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = text.slice(at, end).split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (match === null) break;
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    let next = end + 4;
    let body = '';
    const bodiless = status < 200 || status === 204 || status === 304 || (heads > 0 && status >= 200);
    if (heads > 0 && status >= 200) heads--;
    if (bodiless) {
      // no body
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (text.length < next + length) break;
      body = text.slice(next, next + length);
      next += length;
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      let p = next;
      let complete = false;
      for (;;) {
        const lineEnd = text.indexOf('\r\n', p);
        if (lineEnd < 0) break;
        const size = parseInt(text.slice(p, lineEnd), 16);
        if (size === 0) {
          const trailerEnd = text.indexOf('\r\n\r\n', lineEnd);
          if (trailerEnd >= 0) {
            p = trailerEnd + 4;
            complete = true;
          }
          break;
        }
        if (text.length < lineEnd + 2 + size + 2) break;
        body += text.slice(lineEnd + 2, lineEnd + 2 + size);
        p = lineEnd + 2 + size + 2;
      }
      if (!complete) break;
      next = p;
    } else {
      body = text.slice(next);
      next = text.length;
    }
    responses.push({ status, headers, body });
    at = next;
  }
  return { responses, rest: text.slice(at) };
}

/**
 * Sends raw bytes on a fresh connection; collects what comes back until the server closes the
 * connection, or nothing more has come for `quietMs` once `expect` responses arrived, or `maxMs`.
 */
export function rawExchange(port: number, bytes: string | Buffer, opts: { expect?: number; quietMs?: number; maxMs?: number; host?: string } = {}): Promise<RawExchange> {
  const { expect = 1, quietMs = 150, maxMs = 5000, host = '127.0.0.1' } = opts;
  return new Promise((resolve) => {
    const socket = connect(port, host);
    let text = '';
    let quiet: NodeJS.Timeout | undefined;
    let finished = false;
    const done = (closed: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(limit);
      clearTimeout(quiet);
      socket.destroy();
      const { responses, rest } = parseResponses(text);
      resolve({ responses, closed, rest });
    };
    const limit = setTimeout(() => done(false), maxMs);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      clearTimeout(quiet);
      if (parseResponses(text).responses.filter((r) => r.status >= 200).length >= expect) quiet = setTimeout(() => done(false), quietMs);
    });
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
    socket.once('connect', () => socket.write(bytes));
  });
}
