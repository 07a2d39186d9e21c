import type { Socket } from 'node:net';
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

/** What a backend's silence on a connection means now (see `silence`). */
export enum Silence {
  /** Within the limit, or not counted (the connection is held back for a slow client). */
  Fine,
  /** An idle pooled connection silent for responseMs: closed. */
  CloseIdle,
  /** A response due and nothing for responseMs: the request fails with `timeout`. */
  TimedOut,
}

/** The response timeout's decision for one connection, from when it last read or wrote. */
export function silence(now: number, lastActive: number, responseMs: number, held: boolean, busy: boolean): Silence {
  if (held || now - lastActive < responseMs) return Silence.Fine;
  return busy ? Silence.TimedOut : Silence.CloseIdle;
}

/**
 * The response timeouts of the connections sharing one UpstreamOptions, checked by one timer every
 * responseMs/10 (10–100 ms) rather than a timer per socket, which Node re-arms (a timer-list insert)
 * on every read and every write.
 */
class ResponseWatch {
  private readonly connections = new Set<Upstream>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: UpstreamOptions) {}

  add(upstream: Upstream): void {
    this.connections.add(upstream);
    this.schedule();
  }

  delete(upstream: Upstream): void {
    this.connections.delete(upstream);
    if (this.connections.size === 0 && this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private schedule(): void {
    if (this.timer !== null) return;
    const step = Math.max(10, Math.min(100, this.options.responseMs / 10));
    this.timer = setTimeout(() => this.sweep(), step).unref();
  }

  private sweep(): void {
    this.timer = null;
    const now = Date.now();
    for (const upstream of [...this.connections]) upstream.checkSilence(now);
    if (this.connections.size > 0) this.schedule();
  }
}

const watches = new WeakMap<UpstreamOptions, ResponseWatch>();

function watchFor(options: UpstreamOptions): ResponseWatch {
  let watch = watches.get(options);
  if (watch === undefined) watches.set(options, (watch = new ResponseWatch(options)));
  return watch;
}

/**
 * One keep-alive connection to a backend, reused request after request (never two at once). The
 * connect phase has its own timeout (the socket's); after it, the backend's silence (no byte read
 * or written for responseMs) is the response timeout, watched by a ResponseWatch. Idle connections
 * are parked on their Backend and closed by the data plane's idle sweep.
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
  /** Date.now() of the last read or write since the connection was made (see silence). */
  private lastActive = 0;
  private watch: ResponseWatch | null = null;

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
    // (TLS to an https backup: connected once the handshake has verified the certificate.)
    const socket = (this.socket = backend.connect());
    socket.setTimeout(options.connectMs);
    socket.on(backend.readyEvent, () => {
      this.connected = true;
      socket.setTimeout(0);
      this.lastActive = Date.now();
      (this.watch = watchFor(options)).add(this);
      this.parser.attach(socket, (result) => {
        this.lastActive = Date.now();
        if (typeof result !== 'number') this.fail('protocol', `bad response: ${result.code ?? result.message}`);
      });
    });
    socket.on('end', () => {
      // A body delimited by the close is complete now; anything else in progress was cut short.
      this.parser.finish();
      this.fail(this.cutShort, 'the backend closed the connection');
    });
    // (Only while connecting: the ResponseWatch takes over once connected.)
    socket.on('timeout', () => {
      if (this.user === null) socket.destroy();
      else this.fail('connect', `no connection within ${options.connectMs} ms`);
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
    this.lastActive = Date.now();
    this.socket.write(head, 'latin1');
  }

  /** Writes a piece of the request body; false when the socket's buffer is full (wait for 'drain'). */
  writeBody(chunk: Buffer, chunked: boolean): boolean {
    this.lastActive = Date.now();
    if (!chunked) return this.socket.write(chunk);
    this.socket.cork();
    this.socket.write(chunk.length.toString(16) + '\r\n', 'latin1');
    this.socket.write(chunk);
    const more = this.socket.write('\r\n', 'latin1');
    this.socket.uncork();
    return more;
  }

  endBody(chunked: boolean): void {
    this.lastActive = Date.now();
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
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.lastActive = Date.now();
    this.parser.resume(this.socket);
  }

  /** Called by the ResponseWatch: a connection silent for responseMs is closed (failing its request, if any). */
  checkSilence(now: number): void {
    const verdict = silence(now, this.lastActive, this.options.responseMs, this.paused, this.user !== null);
    if (verdict === Silence.CloseIdle) this.socket.destroy();
    else if (verdict === Silence.TimedOut) this.fail('timeout', `no response within ${this.options.responseMs} ms`);
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
    this.watch?.delete(this);
    this.backend.forget(this);
    this.parser.close();
    const user = this.user;
    if (user === null) return;
    this.user = null;
    const failure = this.failure ?? { kind: this.cutShort, detail: 'connection closed' };
    user.onUpstreamFailure(failure.kind, failure.detail);
  }
}
