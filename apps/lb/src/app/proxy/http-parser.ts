import type { Socket } from 'node:net';

/*
 * Node's own HTTP/1.1 parser (llhttp), the one behind `http.Server` and `http.ClientRequest`, used
 * directly: to read clients' requests and backends' responses. Going through http.Server,
 * ClientRequest and http.Agent instead costs about twice the CPU per proxied request (see
 * tools/bench/lb); the parser is the same, strict (no lenient flags), so messages are framed
 * exactly as Node would frame them.
 *
 * `_http_common` is a built-in module without a documented API; this file is the only place that
 * touches it. At load time it checks that this Node.js is one lb is tested on and that the parser
 * still looks and behaves the way lb expects (a request and a response parsed for real); otherwise
 * the process stops at once (exit status 1) with one line naming the supported versions. The API
 * lb uses is the same on Node.js 20, 22, 24 and 26: `initialize(type, resource, maxHeaderSize,
 * lenientFlags)`, the `kOn*` callback slots, `consume`/`unconsume`/`getCurrentBuffer`, and lenient
 * flags 0 = strict (24 added `kLenientHeaderValueRelaxed`, which lb does not use).
 */

/**
 * The Node.js release lines lb supports: the even-numbered (LTS) lines its whole test suite runs on
 * in CI (`npm test`, see tools/ci/node-versions.js). Keep in step with `engines` in package.json
 * and the README.
 */
export const SUPPORTED_NODE_MAJORS: readonly number[] = [20, 22, 24, 26];

const supportedList = `${SUPPORTED_NODE_MAJORS.slice(0, -1).join(', ')} or ${SUPPORTED_NODE_MAJORS[SUPPORTED_NODE_MAJORS.length - 1]}`;

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

/** What `node:_http_common` exports, as far as lb relies on it. */
export interface HttpCommon {
  HTTPParser?: unknown;
  methods?: unknown;
}

/**
 * Why lb cannot use the HTTP parser of this Node.js, or undefined when it can: the version must be
 * on a supported line, and the parser must have the shape lb uses and parse a request and a
 * response the way lb reads them (callback order and arguments included).
 */
export function parserProblem(version: string, common: HttpCommon): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (!SUPPORTED_NODE_MAJORS.includes(major)) return 'not a release line lb is tested on';
  const P = common.HTTPParser as NativeParserClass | undefined;
  const methods = common.methods;
  const slots = ['REQUEST', 'RESPONSE', 'kOnMessageBegin', 'kOnHeaders', 'kOnHeadersComplete', 'kOnBody', 'kOnMessageComplete', 'kOnExecute'] as const;
  const functions = ['initialize', 'execute', 'finish', 'close', 'consume', 'unconsume', 'getCurrentBuffer'] as const;
  if (typeof P !== 'function') return 'its node:_http_common has no HTTPParser';
  const missing = [...slots.filter((k) => typeof P[k] !== 'number'), ...functions.filter((k) => typeof (P.prototype as NativeParser)[k] !== 'function')];
  if (missing.length > 0) return `its HTTPParser (node:_http_common) lacks ${missing.join(', ')}`;
  if (!Array.isArray(methods) || methods[1] !== 'GET') return 'its HTTP method table (node:_http_common) is not the one lb expects';
  try {
    return selfTest(P, methods as string[]);
  } catch (err) {
    return `its HTTPParser (node:_http_common) failed lb's self-test: ${(err as Error).message}`;
  }
}

/** Parses one request and one response with the native parser and checks what lb's callbacks get. */
function selfTest(P: NativeParserClass, methods: string[]): string | undefined {
  const seen: string[] = [];
  const run = (type: number, input: string) => {
    const parser = new P();
    parser.initialize(type, {}, 0, 0);
    parser[P.kOnMessageBegin] = () => seen.push('begin');
    parser[P.kOnHeaders] = () => seen.push('headers');
    parser[P.kOnHeadersComplete] = (major: number, minor: number, headers: string[] | undefined, method: unknown, url: unknown, status: number, message: unknown, upgrade: boolean, keepAlive: boolean) => {
      const verb = typeof method === 'number' ? methods[method] : method;
      seen.push(`head ${major}.${minor} ${verb ?? '-'} ${url || '-'} ${status || '-'} ${message || '-'} [${(headers ?? []).join('|')}] upgrade=${upgrade} keepAlive=${keepAlive}`);
      return 0;
    };
    parser[P.kOnBody] = (chunk: Buffer) => seen.push(`body ${Buffer.isBuffer(chunk) ? chunk.toString('latin1') : typeof chunk}`);
    parser[P.kOnMessageComplete] = () => seen.push('complete');
    const parsed = parser.execute(Buffer.from(input, 'latin1'));
    parser.close();
    if (parsed !== input.length) throw new Error(`parsed ${typeof parsed === 'number' ? parsed : (parsed as Error).message} of ${input.length} bytes`);
  };
  run(P.REQUEST, 'POST /x?y HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi');
  run(P.RESPONSE, 'HTTP/1.0 404 Not Found\r\nContent-Length: 1\r\n\r\n!');
  const expected = [
    'begin', 'head 1.1 POST /x?y - - [Host|a|Content-Length|2] upgrade=false keepAlive=true', 'body hi', 'complete',
    'begin', 'head 1.0 - - 404 Not Found [Content-Length|1] upgrade=false keepAlive=false', 'body !', 'complete',
  ];
  const got = seen.join('; ');
  return got === expected.join('; ') ? undefined : `its HTTPParser (node:_http_common) reports messages differently than lb expects (self-test: ${got})`;
}

const common = require('node:_http_common') as HttpCommon;
const problem = parserProblem(process.version, common);
if (problem !== undefined) {
  // As for a bad setting (runMain): one line and exit status 1, before anything starts.
  process.stderr.write(`lb needs Node.js ${supportedList}; this is Node.js ${process.version}: ${problem}\n`);
  process.exit(1);
}
const Parser = common.HTTPParser as NativeParserClass;
const methods = common.methods as string[];

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
