import { connect, Socket } from 'node:net';
import type { LbErrorKind } from '@vita/contracts';
import type { Backend } from '../balancer/backend';
import { HttpParser } from './http-parser';

/** The side of a proxied request that an upstream connection reports to (an Exchange). */
export interface UpstreamUser {
  /** HEAD: the response has no body whatever its headers say. */
  readonly bodiless: boolean;
  /** The whole request, body included, has been written. */
  readonly requestDone: boolean;
  onResponseHead(status: number, headers: string[]): void;
  onResponseData(chunk: Buffer): void;
  onResponseEnd(): void;
  /** The connection failed before the response was complete. */
  onUpstreamFailure(kind: LbErrorKind, detail: string): void;
}

/** Live settings (the data plane updates them on reload). */
export interface UpstreamOptions {
  connectMs: number;
  responseMs: number;
  /** Idle connections kept per backend. */
  maxIdle: number;
}

/**
 * One keep-alive connection to a backend, reused request after request (never two at once).
 * Socket inactivity is the response timeout; the connect phase has its own. Idle connections are
 * parked on their Backend and closed by the data plane's idle sweep.
 */
export class Upstream {
  readonly socket: Socket;
  user: UpstreamUser | null = null;
  /** Served at least one response: a failure before the next response's first byte means stale. */
  reused = false;
  private connected = false;
  private responding = false;
  /** A 1xx interim response is being parsed (skipped: Node has answered the client's Expect). */
  private interim = false;
  private keepAlive = false;
  private paused = false;
  private failure: { kind: LbErrorKind; detail: string } | null = null;
  private pendingHeaders: string[] = [];
  private readonly parser: HttpParser;

  constructor(
    readonly backend: Backend<Upstream>,
    private readonly options: UpstreamOptions,
  ) {
    this.parser = new HttpParser('response', {
      onHeaders: (headers) => {
        this.pendingHeaders.push(...headers);
      },
      onHeadersComplete: (_major, _minor, headers, _method, _url, status, _message, _upgrade, keepAlive) => this.onHead(headers, status, keepAlive),
      // Once failed (e.g. a response head lb refused), nothing more of the response goes on.
      // (Nor does the body of an interim response: a 1xx has none, RFC 9110 §15.2.)
      onBody: (chunk) => this.failure === null && !this.interim && this.user?.onResponseData(chunk),
      onMessageComplete: () => this.onComplete(),
    });
    const socket = (this.socket = connect({ host: backend.host, port: backend.port, noDelay: true }));
    socket.setTimeout(options.connectMs);
    socket.on('connect', () => {
      this.connected = true;
      socket.setTimeout(options.responseMs);
      this.parser.attach(socket, (result) => {
        if (typeof result !== 'number') this.fail('protocol', `bad response: ${result.code ?? result.message}`);
      });
    });
    socket.on('end', () => {
      // A body delimited by the close is complete now; anything else in progress was cut short.
      this.parser.finish();
      this.fail(this.cutShort, 'the backend closed the connection');
    });
    socket.on('timeout', () => {
      if (this.user === null) socket.destroy();
      else if (!this.connected) this.fail('connect', `no connection within ${options.connectMs} ms`);
      else this.fail('timeout', `no response within ${options.responseMs} ms`);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.failure ??= { kind: this.connected ? this.cutShort : 'connect', detail: err.code ?? err.message };
    });
    socket.on('close', () => this.onClose());
  }

  /** Sends a request head (and, if the user has one, leaves the socket open for its body). */
  send(user: UpstreamUser, head: string): void {
    this.user = user;
    this.responding = false;
    this.socket.write(head, 'latin1');
  }

  /** Writes a piece of the request body; false when the socket's buffer is full (wait for 'drain'). */
  writeBody(chunk: Buffer, chunked: boolean): boolean {
    if (!chunked) return this.socket.write(chunk);
    this.socket.cork();
    this.socket.write(chunk.length.toString(16) + '\r\n', 'latin1');
    this.socket.write(chunk);
    const more = this.socket.write('\r\n', 'latin1');
    this.socket.uncork();
    return more;
  }

  endBody(chunked: boolean): void {
    if (chunked) this.socket.write('0\r\n\r\n', 'latin1');
  }

  /**
   * Stops reading the response while the client cannot keep up. The backend's silence timer is held
   * meanwhile: the wait is the client's (the client connection has its own limit), not the backend's.
   */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.parser.pause(this.socket);
    this.socket.setTimeout(0);
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.parser.resume(this.socket);
    this.socket.setTimeout(this.options.responseMs);
  }

  /** Cancels the request in progress (the client went away): the connection is not reused. */
  abort(): void {
    this.user = null;
    this.socket.destroy();
  }

  destroy(): void {
    this.abort();
  }

  /**
   * How to call a connection that ended before its response was complete: `stale` when it was a
   * pooled one that failed before any byte of the response (the backend had closed it; safe to
   * retry and not the backend's fault), `reset` otherwise.
   */
  private get cutShort(): LbErrorKind {
    return this.responding || !this.reused ? 'reset' : 'stale';
  }

  private onHead(rawHeaders: string[] | undefined, status: number, keepAlive: boolean): number {
    const headers = rawHeaders ?? this.pendingHeaders;
    if (this.pendingHeaders.length !== 0) this.pendingHeaders = [];
    const user = this.user;
    if (user === null) return 1;
    if (status < 200) {
      if (status === 101) this.fail('protocol', 'the backend switched protocols on a plain request');
      else this.interim = true;
      // 1: no body, whatever its headers say; what follows is the next response.
      return 1;
    }
    this.responding = true;
    this.keepAlive = keepAlive;
    user.onResponseHead(status, headers);
    // 1: no body follows (HEAD); llhttp knows 204 and 304 itself.
    return user.bodiless ? 1 : 0;
  }

  private onComplete(): void {
    // A chunked response's trailer fields come as header pieces: never part of the next response.
    if (this.pendingHeaders.length !== 0) this.pendingHeaders = [];
    if (this.failure !== null) return;
    if (this.interim) {
      this.interim = false;
      return;
    }
    const user = this.user;
    if (user === null) return;
    this.user = null;
    this.responding = false;
    this.reused = true;
    const reusable = this.keepAlive && user.requestDone;
    user.onResponseEnd();
    // Paused for a slow client on the last read: the next user (or the idle pool) needs it reading.
    if (reusable) this.resume();
    if (!reusable || !this.backend.park(this, Date.now(), this.options.maxIdle)) this.socket.destroy();
  }

  /** Records why the connection failed and closes it; the close reports it to the user. */
  fail(kind: LbErrorKind, detail: string): void {
    this.failure ??= { kind, detail };
    this.socket.destroy();
  }

  private onClose(): void {
    this.backend.forget(this);
    this.parser.close();
    const user = this.user;
    if (user === null) return;
    this.user = null;
    const failure = this.failure ?? { kind: this.cutShort, detail: 'connection closed' };
    user.onUpstreamFailure(failure.kind, failure.detail);
  }
}
