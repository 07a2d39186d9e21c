import type { Socket } from 'node:net';

/*
 * Node's own HTTP/1.1 parser (llhttp), the one behind `http.ClientRequest`, used directly to read
 * backend responses on lb's pooled connections. Going through ClientRequest and http.Agent instead
 * costs about twice the CPU per proxied request (see tools/bench/lb); the parser is the same, strict
 * (no lenient flags), so responses are framed exactly as Node would frame them.
 *
 * `_http_common` is a built-in module without a documented API; this file is the only place that
 * touches it and checks at load time that it still looks the way lb expects.
 */

/** Callbacks by slot; `headers` and `url` are undefined when an earlier kOnHeaders call flushed them. */
export interface ParserCallbacks {
  onHeaders(headers: string[]): void;
  onHeadersComplete(versionMajor: number, versionMinor: number, headers: string[] | undefined, method: unknown, url: unknown, statusCode: number, statusMessage: string, upgrade: boolean, shouldKeepAlive: boolean): number;
  onBody(chunk: Buffer): void;
  onMessageComplete(): void;
}

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  finish(): number | Error | undefined;
  close(): void;
  consume(handle: StreamHandle): void;
  [slot: number]: unknown;
}

interface NativeParserClass {
  new (): NativeParser;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kOnExecute: number;
}

/** The native side of a net.Socket, as Node's HTTP server uses it. */
interface StreamHandle {
  isStreamBase?: boolean;
  _consumed?: boolean;
  reading?: boolean;
  readStart(): number;
  readStop(): number;
}
type InternalSocket = Socket & { _handle: StreamHandle | null; _unrefTimer(): void };

const { HTTPParser } = require('node:_http_common') as { HTTPParser?: NativeParserClass };
if (typeof HTTPParser !== 'function' || typeof HTTPParser.kOnHeadersComplete !== 'number' || typeof HTTPParser.RESPONSE !== 'number') {
  throw new Error(`this Node.js (${process.version}) has no usable built-in HTTP parser (node:_http_common): lb needs Node.js 20 or 22`);
}
const Parser = HTTPParser;

/** A strict response parser for one keep-alive connection; it parses every response on it in turn. */
export class ResponseParser {
  private readonly native = new Parser();
  private handle: StreamHandle | null = null;

  constructor(callbacks: ParserCallbacks, maxHeaderSize = 0) {
    this.native.initialize(Parser.RESPONSE, {}, maxHeaderSize, 0);
    this.native[Parser.kOnHeaders] = callbacks.onHeaders;
    this.native[Parser.kOnHeadersComplete] = callbacks.onHeadersComplete;
    this.native[Parser.kOnBody] = callbacks.onBody;
    this.native[Parser.kOnMessageComplete] = callbacks.onMessageComplete;
  }

  /**
   * Feeds the connected socket's bytes to the parser. The native parser reads the socket itself, as
   * in Node's HTTP server, sparing a JS 'data' event and a Buffer per read (about 7% of lb's CPU per
   * request); where that is not possible, 'data' events feed it.
   */
  attach(socket: Socket, onError: (err: Error) => void): void {
    const s = socket as InternalSocket;
    const handle = s._handle;
    if (handle?.isStreamBase && !handle._consumed) {
      handle._consumed = true;
      this.handle = handle;
      this.native[Parser.kOnExecute] = (result: number | Error) => {
        // Reads no longer pass through JS: keep the socket's inactivity timer fresh here.
        s._unrefTimer();
        if (result instanceof Error) onError(result);
      };
      this.native.consume(handle);
    } else {
      socket.on('data', (data: Buffer) => {
        const result = this.native.execute(data);
        if (result instanceof Error) onError(result);
      });
    }
  }

  /** Stops reading (backpressure from a slow client). */
  pause(socket: Socket): void {
    const handle = this.handle;
    if (handle === null) socket.pause();
    else if (handle.reading) {
      handle.reading = false;
      handle.readStop();
    }
  }

  resume(socket: Socket): void {
    const handle = this.handle;
    if (handle === null) socket.resume();
    else if (!handle.reading && !socket.destroyed) {
      handle.reading = true;
      handle.readStart();
    }
  }

  /** The connection ended: completes a response delimited by the close, or reports one cut short. */
  finish(): Error | undefined {
    const result = this.native.finish();
    return result instanceof Error ? result : undefined;
  }

  /** Frees the native parser once the current call stack has unwound (as Node itself does). */
  close(): void {
    setImmediate(() => this.native.close());
  }
}
