import type { ClientConnection, ConnectionUser, RequestHead } from './client-connection';

/** What lb answers itself: a status, header lines (each ending in CRLF) and a body. */
export interface Answer {
  status: number;
  headers: string;
  body: string;
}

/**
 * A response lb gives itself on a kept-alive connection (a redirect, an ACME challenge), in its
 * turn among pipelined requests; a request body that came with it is framed by the parser like any
 * other and dropped (the answer does not depend on it). The answer may have to be fetched (a
 * challenge asked of the other nodes): that starts only in its turn, so a connection has at most one
 * on its way, and the connection's later requests wait behind it.
 */
export class LocalAnswer implements ConnectionUser {
  private finished = false;

  constructor(
    private readonly conn: ClientConnection,
    private readonly head: RequestHead,
    private readonly answer: Answer | (() => Promise<Answer>),
    private readonly done: (status: number) => void,
  ) {}

  start(): void {
    if (typeof this.answer !== 'function') return this.write(this.answer);
    this.answer().then(
      (a) => this.write(a),
      () => this.write({ status: 502, headers: 'Content-Type: text/plain; charset=utf-8\r\n', body: 'no answer\n' }),
    );
  }

  private write({ status, headers, body }: Answer): void {
    if (this.finished) return;
    this.finished = true;
    const { http11, keepAlive, method } = this.head;
    this.conn.respond(status, headers, body, { http11, keepAlive, bodiless: method === 'HEAD' });
    this.done(status);
    this.conn.end(this);
  }

  requestBody(): void {
    // not read: the answer does not depend on it
  }

  requestEnd(): void {
    // nothing to do
  }

  abort(): void {
    // The client went away (or the connection was refused) while the answer was on its way.
    if (this.finished) return;
    this.finished = true;
    this.done(499);
  }
}
