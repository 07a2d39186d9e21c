import type { Socket } from 'node:net';

/*
 * Node's own HTTP/1.1 parser (llhttp), the one behind `http.Server` and `http.ClientRequest`, used
 * directly: to read clients' requests and backends' responses. Going through http.Server,
 * ClientRequest and http.Agent instead costs about twice the CPU per proxied request (see
 * tools/bench/lb); the parser is the same, strict (no lenient flags), so messages are framed
 * exactly as Node would frame them.
 *
 * `_http_common` is a built-in module without a documented API; this file is the only place that
 * touches it and checks at load time that it still looks the way lb expects.
 */

/**
 * Callbacks by slot. A long header block is handed over in pieces: `onHeaders` gets each piece of
 * the headers and of the URL so far, and `onHeadersComplete` then gets undefined `headers` and an
 * empty `url` (the caller keeps what the pieces carried).
 */
export interface ParserCallbacks {
  /** The first byte of a message (requests: for the header and request timeouts). */
  onMessageBegin?(): void;
  onHeaders(headers: string[], url: string): void;
  onHeadersComplete(versionMajor: number, versionMinor: number, headers: string[] | undefined, method: unknown, url: unknown, statusCode: number, statusMessage: string, upgrade: boolean, shouldKeepAlive: boolean): number;
  onBody(chunk: Buffer): void;
  onMessageComplete(): void;
}

interface NativeParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | NodeJS.ErrnoException;
  finish(): number | NodeJS.ErrnoException | undefined;
  close(): void;
  consume(handle: StreamHandle): void;
  unconsume(): void;
  getCurrentBuffer(): Buffer;
  [slot: number]: unknown;
}

interface NativeParserClass {
  new (): NativeParser;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
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

const { HTTPParser, methods } = require('node:_http_common') as { HTTPParser?: NativeParserClass; methods?: string[] };
if (
  typeof HTTPParser !== 'function' ||
  typeof HTTPParser.kOnHeadersComplete !== 'number' ||
  typeof HTTPParser.RESPONSE !== 'number' ||
  typeof HTTPParser.prototype.getCurrentBuffer !== 'function' ||
  !Array.isArray(methods) ||
  methods[1] !== 'GET'
) {
  throw new Error(`this Node.js (${process.version}) has no usable built-in HTTP parser (node:_http_common): lb needs Node.js 20 or 22`);
}
const Parser = HTTPParser;

/** Request methods by the number the parser reports (undefined: one Node does not serve over HTTP). */
export const METHODS: readonly string[] = methods;

/** A strict parser for one connection, reading every message on it in turn: requests or responses. */
export class HttpParser {
  private readonly native = new Parser();
  private handle: StreamHandle | null = null;

  constructor(kind: 'request' | 'response', callbacks: ParserCallbacks, maxHeaderSize = 0) {
    this.native.initialize(kind === 'request' ? Parser.REQUEST : Parser.RESPONSE, {}, maxHeaderSize, 0);
    if (callbacks.onMessageBegin) this.native[Parser.kOnMessageBegin] = callbacks.onMessageBegin;
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
  /**
   * `onExecute` gets the bytes parsed, or the parser's error (made by Node itself: test it with
   * typeof, as `instanceof Error` fails across realms, e.g. under jest).
   */
  attach(socket: Socket, onExecute: (result: number | NodeJS.ErrnoException) => void): void {
    const s = socket as InternalSocket;
    const handle = s._handle;
    if (handle?.isStreamBase && !handle._consumed) {
      handle._consumed = true;
      this.handle = handle;
      this.native[Parser.kOnExecute] = (result: number | NodeJS.ErrnoException) => {
        // Reads no longer pass through JS: keep the socket's inactivity timer fresh here.
        s._unrefTimer();
        onExecute(result);
      };
      this.native.consume(handle);
    } else {
      this.onData = (data: Buffer) => {
        this.current = data;
        onExecute(this.native.execute(data));
        this.current = null;
      };
      socket.on('data', this.onData);
    }
  }

  private onData: ((data: Buffer) => void) | null = null;
  private current: Buffer | null = null;

  /**
   * Hands the socket back to JS after an upgrade: returns the bytes the client sent after the
   * request head (only valid inside the execute callback), and stops feeding the parser.
   */
  detach(socket: Socket, parsed: number): Buffer {
    const data = this.handle === null ? this.current : this.native.getCurrentBuffer();
    if (this.handle !== null) {
      this.native.unconsume();
      this.handle._consumed = false;
      this.handle = null;
    }
    if (this.onData !== null) socket.off('data', this.onData);
    return data === null ? Buffer.alloc(0) : data.subarray(parsed);
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
    return typeof result === 'object' ? result : undefined;
  }

  /** Frees the native parser once the current call stack has unwound (as Node itself does). */
  close(): void {
    setImmediate(() => this.native.close());
  }
}
