import type { Socket } from 'node:net';
import { HttpParser, METHODS } from './http-parser';
import { Body, frame, type Framing } from './framing';
import { bodyPiece, statusLine } from './wire';
import type { ResponseHeaders } from './headers';

/** What a client connection hands to its data plane. */
export interface ConnectionOwner {
  readonly maxHeaderBytes: number;
  /** How much of a chunked request body is held before the request goes on (see Exchange). */
  readonly chunkedBodyBufferBytes: number;
  /** Whether responses should close their connection (lb is draining). */
  readonly closing: boolean;
  /** A request's head has arrived (not an upgrade). */
  onRequest(conn: ClientConnection, request: RequestHead): void;
  /** A WebSocket (or other) upgrade request; the socket is no longer the connection's. */
  onUpgrade(conn: ClientConnection, request: RequestHead, head: Buffer): void;
  /** The parser refused the client's bytes (`code` is Node's, e.g. HPE_INVALID_CHUNK_SIZE). */
  onMalformed(conn: ClientConnection, code: string): void;
  onClose(conn: ClientConnection): void;
}

/** A request head as the parser gave it. */
export interface RequestHead {
  /** Undefined for a method Node does not serve over HTTP. */
  method: string | undefined;
  url: string;
  rawHeaders: string[];
  http11: boolean;
  keepAlive: boolean;
}

/** One request on a connection, from the connection's side (an Exchange). */
export interface ConnectionUser {
  /** Part of the request body. */
  requestBody(chunk: Buffer): void;
  /** The request, body included, has been read. */
  requestEnd(): void;
  /** The client went away before the response was complete, or (`refused`) the request was refused mid-way. */
  abort(refused?: boolean): void;
  /** The request may go to a backend now (it is first on its connection). */
  start(): void;
}

/** How a response in progress is framed towards the client. */
interface Responding {
  chunked: boolean;
  keepAlive: boolean;
}

/** The Date header, rebuilt at most once a second. */
let dateSecond = 0;
let dateValue = '';
function httpDate(): string {
  const now = Date.now();
  if (now - dateSecond >= 1000) {
    dateSecond = now - (now % 1000);
    dateValue = new Date(dateSecond).toUTCString();
  }
  return dateValue;
}

function flushHead(conn: ClientConnection): void {
  conn.flushHead();
}

/** How long a connection lb closes after a last response goes on reading (and ignoring) the client. */
export const LINGER_MS = 2000;

/**
 * Sends a last response and closes the connection without losing it: the write side is shut after
 * the response, and what the client still sends is read and ignored until it closes its side too (or
 * LINGER_MS pass). Closing with unread bytes would make the kernel reset the connection, and the
 * client could lose the responses already sent.
 */
export function lingeringClose(socket: Socket, raw: string, resume: () => void = () => socket.resume(), ms = LINGER_MS): void {
  if (socket.destroyed) return;
  socket.on('error', () => socket.destroy());
  socket.end(raw);
  resume();
  const timer = setTimeout(() => socket.destroy(), ms).unref();
  socket.once('close', () => clearTimeout(timer));
}

/** How long an idle connection lb closes goes on reading (and ignoring) what its client still sends. */
const IDLE_LINGER_MS = 200;

/** More request bytes than this waiting for a backend connection: stop reading the client. */
const MAX_BUFFERED_BODY = 64 * 1024;

/** More unanswered requests than this on one connection: stop reading the client. */
const MAX_PIPELINED = 32;

/** Reasons to stop reading a client. */
export enum Pause {
  /** Request body held in memory past its bound. */
  Buffered = 1,
  /** The backend is not taking the request body as fast as it comes. */
  Backend = 2,
  /** Too many unanswered pipelined requests. */
  Pipeline = 4,
  /** A request was refused: the connection closes once earlier requests are answered. */
  Refused = 8,
}

/**
 * A client's keep-alive connection, read with Node's strict HTTP parser and answered by writing
 * response heads straight to the socket (no IncomingMessage, ServerResponse or their streams, which
 * cost as much CPU as the rest of lb's request path). Requests are answered in order, one at a time:
 * a pipelined request waits, its body buffered up to a bound, until the one before it is answered.
 */
export class ClientConnection {
  readonly parser: HttpParser;
  /** Requests on this connection not yet answered, oldest first (more than one when the client pipelines). */
  readonly users: ConnectionUser[] = [];
  /** The request whose body is being read. */
  private receiving: ConnectionUser | null = null;
  private pendingHeaders: string[] = [];
  private pendingUrl = '';
  /** When the current request's first byte / whole head arrived (0: not in that phase). */
  headersSince = 0;
  requestSince = 0;
  /** Since when the connection has had nothing to do (0: busy). */
  idleSince: number;
  /** Close once the responses in progress are complete. */
  closeAfter = false;
  /** The connection came over TLS (the HTTPS or the peer listener). */
  tls = false;
  upgraded = false;
  /** The response in progress: started (head written) and how it is framed. */
  responding: Responding | null = null;
  /**
   * The response head written last, not yet on the socket: it leaves with the first piece of the
   * body (one write), with the end of the response, or at the end of the tick, whichever is first.
   */
  private pendingHead: string | null = null;
  private upgrade: RequestHead | null = null;
  /** Refused: whatever else the client sent on it is ignored, and it is closing. */
  refused = false;
  /** Why reading the client is stopped (bits of Pause); it resumes when no reason is left. */
  private pausedFor = 0;
  private bufferedBody = 0;

  constructor(
    readonly socket: Socket,
    private readonly owner: ConnectionOwner,
    /** The client's address. */
    readonly peer: string,
  ) {
    this.idleSince = Date.now();
    this.parser = new HttpParser(
      'request',
      {
        onMessageBegin: () => {
          // What the parser handed over since the last head (a chunked body's trailer fields) is
          // not part of this message.
          if (this.pendingHeaders.length !== 0) this.pendingHeaders = [];
          this.pendingUrl = '';
          this.headersSince = this.requestSince = Date.now();
          this.idleSince = 0;
        },
        onHeaders: (headers, url) => {
          this.pendingHeaders.push(...headers);
          this.pendingUrl += url;
        },
        onHeadersComplete: (_major, minor, headers, method, url, _status, _message, upgrade, keepAlive) => {
          this.headersSince = 0;
          const rawHeaders = headers ?? this.pendingHeaders;
          const target = (url as string | undefined) || this.pendingUrl;
          if (this.pendingHeaders.length !== 0) this.pendingHeaders = [];
          this.pendingUrl = '';
          if (this.refused) return 0;
          const head: RequestHead = { method: METHODS[method as number], url: target, rawHeaders, http11: minor >= 1, keepAlive };
          if (upgrade) this.upgrade = head;
          else this.owner.onRequest(this, head);
          return 0;
        },
        onBody: (chunk) => this.receiving?.requestBody(chunk),
        onMessageComplete: () => {
          this.requestSince = 0;
          // Trailer fields (handed over like header pieces) are not forwarded, and never carried on.
          if (this.pendingHeaders.length !== 0) this.pendingHeaders = [];
          this.pendingUrl = '';
          const user = this.receiving;
          this.receiving = null;
          user?.requestEnd();
          if (this.users.length === 0) this.idleSince = Date.now();
        },
      },
      owner.maxHeaderBytes,
    );
    socket.on('error', () => socket.destroy());
    // Set only while a response waits for the client to take what was written (see awaitClient).
    socket.on('timeout', () => socket.destroy());
    // The client shut its side: as with Node's HTTP server, what it was waiting for is cancelled.
    // (A WebSocket tunnel handles its own half-close.)
    socket.on('end', () => this.upgraded || socket.destroy());
    socket.once('close', () => {
      this.parser.close();
      this.owner.onClose(this);
      for (const user of this.users.splice(0)) user.abort();
    });
    this.parser.attach(socket, (result) => {
      if (typeof result !== 'number') this.owner.onMalformed(this, result.code ?? 'HPE_UNKNOWN');
      else if (this.upgrade !== null) {
        const request = this.upgrade;
        this.upgrade = null;
        this.upgraded = true;
        this.owner.onUpgrade(this, request, this.parser.detach(socket, result));
      }
    });
  }

  /** Adds a request; it starts at once if nothing before it is unanswered. */
  add(user: ConnectionUser, hasBody: boolean): void {
    this.users.push(user);
    if (hasBody) this.receiving = user;
    if (this.users.length === 1) user.start();
    // A client pipelining far ahead of its answers: stop reading it until it catches up.
    else if (this.users.length >= MAX_PIPELINED) this.pauseReading(Pause.Pipeline);
  }

  /**
   * Whether nothing is in progress on the connection and everything written has left: it can be
   * closed without losing anything.
   */
  get idle(): boolean {
    // (A refused or closing connection is on its way out already.)
    return this.users.length === 0 && this.headersSince === 0 && !this.upgraded && !this.refused && this.socket.writableLength === 0;
  }

  // ---- request bodies waiting for a backend ----

  /** Counts body bytes held in memory for a request not yet sent on; reading stops past the bound. */
  buffered(bytes: number): void {
    this.bufferedBody += bytes;
    if (this.bufferedBody > this.maxBuffered) this.pauseReading(Pause.Buffered);
  }

  flushed(bytes: number): void {
    this.bufferedBody -= bytes;
    if (this.bufferedBody <= this.maxBuffered) this.resumeReading(Pause.Buffered);
  }

  /** Past this, reading stops (never below what a chunked body may be held to). */
  private get maxBuffered(): number {
    return Math.max(MAX_BUFFERED_BODY, this.owner.chunkedBodyBufferBytes + 1);
  }

  pauseReading(reason: Pause): void {
    if (this.pausedFor === 0) this.parser.pause(this.socket);
    this.pausedFor |= reason;
  }

  resumeReading(reason: Pause): void {
    if ((this.pausedFor & reason) === 0) return;
    this.pausedFor &= ~reason;
    if (this.pausedFor === 0) this.parser.resume(this.socket);
  }

  // ---- the response ----

  get headersSent(): boolean {
    return this.responding !== null;
  }

  /** Writes a response head; its framing line (from `frame`) is among `headers.lines`. */
  writeHead(status: number, headers: ResponseHeaders, request: { keepAlive: boolean; http11: boolean }): void {
    const body = headers.framing.body;
    // A body delimited by the close ends the connection.
    const keepAlive = request.keepAlive && !this.closeAfter && !this.owner.closing && body !== Body.Close;
    let head = statusLine(status) + headers.lines;
    if (!keepAlive) head += 'Connection: close\r\n';
    else if (!request.http11) head += 'Connection: keep-alive\r\n';
    if (!headers.date) head += 'Date: ' + httpDate() + '\r\n';
    this.responding = { chunked: body === Body.Chunked, keepAlive };
    this.pendingHead = head + '\r\n';
    process.nextTick(flushHead, this);
  }

  /** Sends the response head if it is still waiting for its body (see pendingHead). */
  flushHead(): void {
    const head = this.pendingHead;
    if (head === null) return;
    this.pendingHead = null;
    if (!this.socket.destroyed) this.socket.write(head, 'latin1');
  }

  /**
   * A response is waiting for the client to take what was written: a client that takes nothing for
   * `ms` is taken for gone and disconnected (its request counts as aborted). `ms` 0: waiting no more.
   */
  awaitClient(ms: number): void {
    this.socket.setTimeout(ms);
  }

  /** A piece of the response body; false when the client is not keeping up (wait for 'drain'). */
  write(chunk: Buffer): boolean {
    const head = this.pendingHead;
    const chunked = this.responding?.chunked === true;
    if (head === null && !chunked) return this.socket.write(chunk);
    this.pendingHead = null;
    return this.socket.write(bodyPiece(head ?? '', chunk, chunked));
  }

  /** A complete response of lb's own (errors). */
  respond(status: number, headers: string, body: string, request: { http11: boolean; keepAlive: boolean; bodiless: boolean }): void {
    const framing = frame({ kind: 'response', contentLength: String(Buffer.byteLength(body)), transferEncoding: undefined, http11: true, status, toHead: request.bodiless, clientHttp11: request.http11 }) as Framing;
    this.writeHead(status, { lines: headers + framing.header, framing, date: false }, request);
    if (framing.body !== Body.None) this.write(Buffer.from(body));
  }

  /** The response of the first request is complete: close, or go on with the next request. */
  end(user: ConnectionUser): void {
    const framing = this.responding;
    this.responding = null;
    const head = this.pendingHead;
    this.pendingHead = null;
    if (framing?.chunked) this.socket.write((head ?? '') + '0\r\n\r\n', 'latin1');
    else if (head !== null) this.socket.write(head, 'latin1');
    if (this.users[0] === user) this.users.shift();
    if (this.users.length < MAX_PIPELINED) this.resumeReading(Pause.Pipeline);
    if (framing === null || !framing.keepAlive) {
      this.close();
      return;
    }
    if (this.receiving === user) {
      // Answered before its body was read (e.g. the backend refused it early): the rest is not worth reading.
      this.close();
      return;
    }
    const next = this.users[0];
    // A pipelined request waits until the client has taken the response before it (else a client
    // that pipelines without reading would have lb hold every response in memory).
    if (next !== undefined) {
      if (this.socket.writableNeedDrain) this.socket.once('drain', () => next.start());
      else next.start();
    }
    else if (this.closeAfter) this.close();
    else if (this.requestSince === 0) this.idleSince = Date.now();
  }

  /** Flushes what was written, then closes. */
  close(): void {
    this.closeAfter = true;
    this.flushHead();
    this.socket.destroySoon();
  }

  /** The last response on this connection (see lingeringClose): nothing the client still sends is looked at. */
  lingeringClose(raw: string, ms = LINGER_MS): void {
    this.refused = true;
    this.pausedFor = 0;
    lingeringClose(this.socket, raw, () => (this.upgraded ? this.socket.resume() : this.parser.resume(this.socket)), ms);
  }

  /**
   * Closes an idle connection (keep-alive timeout, idle cap) with a FIN rather than a reset: a
   * request the client sent meanwhile is left unanswered and never forwarded, and the client sees the
   * connection closed before any response, which HTTP clients take as safe to send again.
   */
  closeIdle(): void {
    this.lingeringClose('', IDLE_LINGER_MS);
  }

  /**
   * Answers a malformed, hostile or refused request with a raw response and closes; nothing else the
   * client sent is looked at. The request being read, if it is the one at fault, never goes on.
   * Responses stay in request order: earlier requests still unanswered are answered first, then the
   * refusal. Only when the response to the request at fault has already started is the connection
   * cut instead.
   */
  refuse(raw: string): void {
    if (this.refused) return;
    this.refused = true;
    this.pauseReading(Pause.Refused);
    const victim = this.receiving;
    this.receiving = null;
    const started = victim !== null && victim === this.users[0] && this.headersSent;
    if (victim !== null && !started) {
      this.users.splice(this.users.indexOf(victim), 1);
      victim.abort(true);
    }
    if (started || !this.socket.writable) {
      this.socket.destroy();
      return;
    }
    const refusal = new Refusal(this, raw);
    this.users.push(refusal);
    if (this.users.length === 1) refusal.start();
  }
}

/** A refusal waiting its turn behind earlier requests on the connection. */
class Refusal implements ConnectionUser {
  constructor(
    private readonly conn: ClientConnection,
    private readonly raw: string,
  ) {}

  start(): void {
    this.conn.lingeringClose(this.raw);
  }

  requestBody(): void {
    // Never receiving: nothing of the refused request is read.
  }

  requestEnd(): void {
    // As above.
  }

  abort(): void {
    // Nothing in flight.
  }
}
