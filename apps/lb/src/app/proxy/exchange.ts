import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LbErrorKind } from '@vita/contracts';
import type { Backend } from '../balancer/backend';
import { FULL } from '../balancer/balancer';
import { observe, statusClass } from '../stats/counters';
import type { DataPlane } from './data-plane';
import { responseHeaders, type UpstreamRequest } from './headers';
import { Upstream, type UpstreamUser } from './upstream';

/** Methods whose request may be sent again (RFC 9110 §9.2.2); only without a body, which lb does not keep. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

const kExchange = Symbol('lb.exchange');
type Carrier = { [kExchange]?: Exchange };

const ERROR_BODIES: Record<number, string> = {
  502: 'Bad Gateway: the backend failed before answering\n',
  503: 'Service Unavailable: no backend is available, retry shortly\n',
  504: 'Gateway Timeout: the backend did not answer in time\n',
};

/**
 * One client request on its way through lb: picks a backend, sends the request over a pooled
 * connection, streams the response back, and on a failure before any response byte reached the
 * client retries an idempotent bodiless request on another backend. Event handlers are shared
 * functions that find the exchange on the request/response objects, so no closures are made per request.
 */
export class Exchange implements UpstreamUser {
  readonly start = performance.now();
  /** When the backend's response head arrived (0: not yet). */
  headAt = 0;
  readonly bodiless: boolean;
  requestDone: boolean;
  attempts = 0;
  status = 0;
  done = false;
  queuedAt = 0;
  backend: Backend<Upstream> | null = null;
  upstream: Upstream | null = null;
  private tried: Backend<Upstream>[] | null = null;
  /** Holds one of `backend`'s maxconn slots. */
  private holding = false;
  private readonly retryable: boolean;

  constructor(
    private readonly plane: DataPlane,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly request: UpstreamRequest,
    /** The exchanges in flight on the client's connection (more than one when it pipelines). */
    private readonly inFlight: Exchange[],
  ) {
    this.bodiless = req.method === 'HEAD';
    this.requestDone = !request.hasBody;
    this.retryable = !request.hasBody && IDEMPOTENT.has(req.method as string);
    (res as Carrier)[kExchange] = this;
    // A connection-level 'close' listener (DataPlane) aborts what is in flight: no listener per request.
    inFlight.push(this);
  }

  /** Sends the request to the backend the balancer picks, queues it, or answers 503. */
  dispatch(): void {
    if (this.done) return;
    const picked = this.plane.balancer.pick(Date.now(), this.tried);
    if (picked === FULL) this.plane.enqueue(this);
    else if (picked === null) this.fail(503, 'noBackend');
    else this.attempt(picked);
  }

  attempt(backend: Backend<Upstream>): void {
    this.attempts++;
    this.backend = backend;
    this.holding = true;
    backend.counters.active++;
    backend.counters.total++;
    const upstream = backend.unpark() ?? new Upstream(backend, this.plane.upstreamOptions);
    this.upstream = upstream;
    upstream.send(this, this.request.head);
    if (this.request.hasBody) {
      (this.req as Carrier)[kExchange] = this;
      this.req.on('data', onRequestData);
      this.req.on('end', onRequestEnd);
    }
  }

  onResponseHead(status: number, headers: string[]): void {
    this.headAt = performance.now();
    this.status = status;
    const res = this.res;
    if (this.plane.draining) res.shouldKeepAlive = false;
    try {
      res.writeHead(status, responseHeaders(headers, this.request.requestId));
    } catch (err) {
      // A header Node refuses to send on: treat it as a broken response.
      this.upstream?.abort();
      this.onUpstreamFailure('protocol', (err as Error).message);
      return;
    }
    const backend = this.backend as Backend<Upstream>;
    if (status >= 500 && this.plane.config.passive.on5xx) this.plane.backendError(backend, 'http5xx', `status ${status}`);
    else backend.failures = 0;
  }

  onResponseData(chunk: Buffer): void {
    if (!this.res.write(chunk) && this.upstream !== null) {
      this.upstream.pause();
      this.res.once('drain', resumeUpstream);
    }
  }

  onResponseEnd(): void {
    this.upstream = null;
    this.release();
    this.res.end();
    this.finish();
  }

  onUpstreamFailure(kind: LbErrorKind, detail: string): void {
    const backend = this.backend as Backend<Upstream>;
    this.upstream = null;
    this.release();
    this.plane.backendError(backend, kind, detail);
    if (this.done) return;
    if (!this.res.headersSent && kind !== 'timeout' && this.retryable && this.attempts <= this.plane.config.retries) {
      backend.counters.retries++;
      (this.tried ??= []).push(backend);
      this.plane.logRetry(this, backend, kind, detail);
      this.dispatch();
    } else if (!this.res.headersSent) {
      this.fail(kind === 'timeout' ? 504 : 502);
    } else {
      // Part of the response is out: cut the connection so the client cannot take it as complete.
      this.status = 502;
      this.res.destroy();
      this.finish();
    }
  }

  /** Answers with lb's own error response. */
  fail(status: 502 | 503 | 504, counter?: 'noBackend' | 'queueTimeouts' | 'queueFull'): void {
    if (counter) this.plane.frontend[counter]++;
    this.status = status;
    const body = ERROR_BODIES[status];
    const headers = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body)), 'X-Request-Id', this.request.requestId];
    if (status === 503) headers.push('Retry-After', '1');
    this.res.writeHead(status, headers).end(body);
    this.finish();
  }

  /** The client went away before its response was complete: cancel the upstream request. */
  abort(): void {
    if (this.done) return;
    this.plane.frontend.clientAborts++;
    if (this.queuedAt !== 0) this.plane.unqueue(this);
    this.upstream?.abort();
    this.upstream = null;
    this.release();
    this.status = 499;
    this.finish();
  }

  private release(): void {
    if (!this.holding) return;
    this.holding = false;
    (this.backend as Backend<Upstream>).counters.active--;
    this.plane.slotFreed();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.release();
    const inFlight = this.inFlight;
    const at = inFlight.indexOf(this);
    if (at >= 0) {
      inFlight[at] = inFlight[inFlight.length - 1];
      inFlight.pop();
    }
    const ms = performance.now() - this.start;
    const plane = this.plane;
    const frontend = plane.frontend;
    frontend.active--;
    frontend.classes[statusClass(this.status)]++;
    observe(frontend.histogram, ms);
    const backend = this.backend;
    if (backend !== null) {
      backend.counters.classes[statusClass(this.status)]++;
      observe(backend.counters.histogram, ms);
    }
    plane.logAccess(this, ms);
  }
}

function resumeUpstream(this: ServerResponse & Carrier): void {
  this[kExchange]?.upstream?.resume();
}

function onRequestData(this: IncomingMessage & Carrier, chunk: Buffer): void {
  const exchange = this[kExchange];
  const upstream = exchange?.upstream;
  if (exchange === undefined || upstream == null) return;
  if (!upstream.writeBody(chunk, exchange.request.chunked)) {
    this.pause();
    upstream.socket.once('drain', () => this.resume());
  }
}

function onRequestEnd(this: IncomingMessage & Carrier): void {
  const exchange = this[kExchange];
  if (exchange === undefined) return;
  exchange.requestDone = true;
  if (exchange.upstream !== null) exchange.upstream.endBody(exchange.request.chunked);
}
