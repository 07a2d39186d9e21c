import type { LbErrorKind } from '@vita/contracts';
import type { Awaiting, Backend, MoveCause } from '../balancer/backend';
import { FULL } from '../balancer/balancer';
import { observe, statusClass } from '../stats/counters';
import { Pause, type ClientConnection, type ConnectionUser, type RequestHead } from './client-connection';
import type { DataPlane } from './data-plane';
import { isRefusal, responseHeaders, type UpstreamRequest } from './headers';
import { Upstream, type UpstreamUser } from './upstream';

/** Methods whose request may be sent again (RFC 9110 §9.2.2); only without a body, which lb does not keep. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Whether a request may be sent again (to another backend): idempotent, and no body. POST never is. */
const resendable = (method: string, hasBody: boolean): boolean => !hasBody && IDEMPOTENT.has(method);

const ERROR_BODIES: Record<number, string> = {
  502: 'Bad Gateway: the backend failed before answering\n',
  503: 'Service Unavailable: no backend is available, retry shortly\n',
  504: 'Gateway Timeout: the backend did not answer in time\n',
};

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

/**
 * One client request on its way through lb: picks a backend, sends the request over a pooled
 * connection, streams the response back, and on a failure before any response byte reached the
 * client retries an idempotent bodiless request on another backend. Such a request also moves to
 * another backend while it waits for the response head, when its backend is taken out or has not
 * started answering within `timeouts.firstByteMs` (see `move`).
 */
export class Exchange implements UpstreamUser, ConnectionUser, Awaiting {
  readonly startedAt = performance.now();
  /** When the backend's response head arrived (0: not yet). */
  headAt = 0;
  readonly method: string;
  readonly url: string;
  readonly http11: boolean;
  readonly keepAlive: boolean;
  readonly bodiless: boolean;
  requestDone: boolean;
  attempts = 0;
  status = 0;
  done = false;
  queuedAt = 0;
  /** When the request went to its current backend (the time to first byte runs from here). */
  sentAt = 0;
  backend: Backend<Upstream> | null = null;
  upstream: Upstream | null = null;
  /** May go to a backup (false: it came from another node's lb). */
  backups = true;
  private tried: Backend<Upstream>[] | null = null;
  /** Holds one of `backend`'s maxconn slots. */
  private holding = false;
  /** In `backend.awaiting`: sent, no response head yet, and resendable. */
  private awaitingHead = false;
  private readonly retryable: boolean;
  /** Request body that arrived before a backend connection was ready. */
  private body: Buffer[] | null = null;
  private bodyBytes = 0;
  /** The request head has gone to the backend (body chunks can follow it). */
  private sent = false;
  /** A chunked body being held (up to a bound) before the request goes on. */
  private holdingBody = false;
  /** The backend connection is paused until the client's socket drains. */
  private waitingForClient = false;
  /** The client connection is paused until the backend's socket drains. */
  private waitingForBackend = false;

  constructor(
    private readonly plane: DataPlane,
    readonly conn: ClientConnection,
    head: RequestHead,
    readonly request: UpstreamRequest,
  ) {
    this.method = head.method as string;
    this.url = head.url;
    this.http11 = head.http11;
    this.keepAlive = head.keepAlive;
    this.bodiless = this.method === 'HEAD';
    this.requestDone = !request.hasBody;
    this.retryable = resendable(this.method, request.hasBody);
  }

  /** First on its connection: go. A request with a body waits one tick first (see below). */
  start(): void {
    if (this.request.expect !== undefined) this.conn.socket.write(CONTINUE, 'latin1');
    // A small chunked body is read whole first: bad chunking anywhere in it is refused before any
    // backend sees the request. Otherwise, if the rest of the packet the request came in is malformed,
    // the parser has rejected it and the connection is closed by the next tick.
    // (A pipelined request may have more than that buffered already, its reading stopped: it goes on.)
    const limit = this.plane.config.limits.chunkedBodyBufferBytes;
    if (this.request.chunked && !this.requestDone && limit > 0 && this.bodyBytes <= limit) this.holdingBody = true;
    else if (this.request.hasBody) process.nextTick(dispatchUnlessRejected, this);
    else this.dispatch();
  }

  /** Stops holding the body: the request goes on. */
  private releaseBody(): void {
    this.holdingBody = false;
    process.nextTick(dispatchUnlessRejected, this);
  }

  /** Sends the request to the backend the balancer picks, queues it, or answers 503. */
  dispatch(): void {
    if (this.done) return;
    const picked = this.plane.balancer.pick(Date.now(), this.tried, this.backups);
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
    upstream.send(this, backend.requestHead(this.request.head));
    this.sent = true;
    if (this.retryable) {
      this.sentAt = performance.now();
      this.awaitingHead = true;
      backend.awaiting.add(this);
    }
    const body = this.body;
    if (body !== null) {
      this.body = null;
      for (const chunk of body) upstream.writeBody(chunk, this.request.chunked);
      this.conn.flushed(this.bodyBytes);
      this.bodyBytes = 0;
    }
    if (this.request.hasBody && this.requestDone) upstream.endBody(this.request.chunked);
  }

  requestBody(chunk: Buffer): void {
    if (this.done) return;
    const upstream = this.upstream;
    if (upstream === null || !this.sent) {
      (this.body ??= []).push(chunk);
      this.bodyBytes += chunk.length;
      if (this.holdingBody && this.bodyBytes > this.plane.config.limits.chunkedBodyBufferBytes) this.releaseBody();
      this.conn.buffered(chunk.length);
    } else if (!upstream.writeBody(chunk, this.request.chunked) && !this.waitingForBackend) {
      // The backend is not keeping up: stop reading the client until it does (one listener at a time).
      this.waitingForBackend = true;
      this.conn.pauseReading(Pause.Backend);
      upstream.socket.once('drain', this.backendDrained);
    }
  }

  private readonly backendDrained = (): void => {
    this.waitingForBackend = false;
    this.conn.resumeReading(Pause.Backend);
  };

  requestEnd(): void {
    this.requestDone = true;
    if (this.holdingBody) this.releaseBody();
    if (!this.done && this.sent && this.upstream !== null) this.upstream.endBody(this.request.chunked);
  }

  onResponseHead(status: number, headers: string[]): void {
    const response = responseHeaders((this.backend as Backend<Upstream>).responseHeaders(headers), this.request.requestId, status, this);
    if (isRefusal(response)) {
      // Not forwardable (framing lb cannot reproduce faithfully): a protocol failure of the backend.
      this.upstream?.fail('protocol', `bad response: ${response.error}`);
      return;
    }
    this.headAt = performance.now();
    // From here on it stays: the response is the client's (and a 5xx below may take the backend out).
    this.stopAwaiting();
    this.status = status;
    this.conn.writeHead(status, response, this);
    const backend = this.backend as Backend<Upstream>;
    if (status >= 500 && this.plane.config.passive.on5xx) this.plane.backendError(backend, 'http5xx', `status ${status}`);
    else backend.failures = 0;
  }

  onResponseData(chunk: Buffer): void {
    const upstream = this.upstream;
    // One 'drain' listener at a time, however many chunks one read of the backend holds.
    if (!this.conn.write(chunk) && upstream !== null && !this.waitingForClient) {
      this.waitingForClient = true;
      upstream.pause();
      this.conn.awaitClient(this.plane.config.timeouts.responseMs);
      this.conn.socket.once('drain', this.clientDrained);
    }
  }

  private readonly clientDrained = (): void => {
    this.waitingForClient = false;
    this.conn.awaitClient(0);
    this.upstream?.resume();
  };

  onResponseEnd(): void {
    // The connection goes back to the pool reading again (Upstream resumes it); this response no longer waits.
    if (this.waitingForClient) {
      this.waitingForClient = false;
      this.conn.socket.off('drain', this.clientDrained);
      // What was written still has to reach the client: the limit stays until it has.
      this.conn.socket.once('drain', () => this.conn.awaitClient(0));
    }
    this.upstream = null;
    this.release();
    this.finish();
    this.conn.end(this);
  }

  onUpstreamFailure(kind: LbErrorKind, detail: string): void {
    const backend = this.backend as Backend<Upstream>;
    this.upstream = null;
    this.release();
    this.plane.backendError(backend, kind, detail);
    if (this.done) return;
    const headersSent = this.headAt !== 0;
    // A backend that answered with something lb will not forward (`protocol`) answered on purpose:
    // sending the request to the next one would only spread the failure (and the passive counts).
    if (!headersSent && kind !== 'timeout' && kind !== 'protocol' && this.retryable && this.attempts <= this.plane.config.retries) {
      backend.counters.retries++;
      (this.tried ??= []).push(backend);
      this.plane.logRetry(this, backend, kind, detail);
      this.dispatch();
    } else if (!headersSent) {
      this.fail(kind === 'timeout' ? 504 : 502);
    } else {
      // Part of the response is out: cut the connection so the client cannot take it as complete.
      this.status = 502;
      this.finish();
      this.conn.socket.destroy();
    }
  }

  /**
   * Sends the request to another backend instead of waiting on this one for its response head:
   * `down`, its backend was taken out (any other eligible backend will do); `slow`, no response
   * head within `timeouts.firstByteMs` (only to a backend it has not tried, with a free slot, and the
   * slow one is charged a passive failure). Only while resendable and awaiting the head, with a
   * retry left. The connection to this backend is closed: the backend sees the request cancelled.
   * False when it stays.
   */
  move(cause: MoveCause, charge = true): boolean {
    const backend = this.backend;
    const plane = this.plane;
    if (!this.awaitingHead || this.done || backend === null || this.attempts > plane.config.retries) return false;
    // Slow is judged where it waits now (a request moved a moment ago is not late on its new backend).
    if (cause === 'slow' && performance.now() - this.sentAt < plane.config.timeouts.firstByteMs) return false;
    if (!plane.hasOtherBackend(backend, cause === 'slow' ? this.tried : null, cause === 'slow', this.backups)) return false;
    this.upstream?.abort();
    this.upstream = null;
    this.release();
    const detail = cause === 'slow' ? `no response head within ${plane.config.timeouts.firstByteMs} ms` : 'the backend was taken out';
    // A slow backend is charged a passive failure (at most one per sweep; the aborted connection reports nothing more).
    if (cause === 'slow' && charge) plane.backendError(backend, 'timeout', detail);
    backend.counters.retries++;
    (this.tried ??= []).push(backend);
    plane.logRetry(this, backend, cause, detail);
    this.dispatch();
    return true;
  }

  /** Answers with lb's own error response. */
  fail(status: 502 | 503 | 504, counter?: 'noBackend' | 'queueTimeouts' | 'queueFull'): void {
    if (counter) this.plane.frontend[counter]++;
    this.status = status;
    const body = ERROR_BODIES[status];
    let headers = 'Content-Type: text/plain; charset=utf-8\r\nX-Request-Id: ' + this.request.requestId + '\r\n' + this.plane.nodeLine;
    if (status === 503) headers += 'Retry-After: 1\r\n';
    this.conn.respond(status, headers, body, this);
    this.finish();
    this.conn.end(this);
  }

  /**
   * The client went away before its response was complete, or its request was refused while being
   * read (bad chunking): cancel the upstream request, if any.
   */
  abort(refused = false): void {
    if (this.done) return;
    if (!refused) this.plane.frontend.clientAborts++;
    if (this.queuedAt !== 0) this.plane.unqueue(this);
    this.upstream?.abort();
    this.upstream = null;
    this.release();
    this.status = refused ? 400 : 499;
    this.finish();
  }

  private stopAwaiting(): void {
    if (!this.awaitingHead) return;
    this.awaitingHead = false;
    (this.backend as Backend<Upstream>).awaiting.delete(this);
  }

  private release(): void {
    this.stopAwaiting();
    if (!this.holding) return;
    this.holding = false;
    (this.backend as Backend<Upstream>).counters.active--;
    this.plane.slotFreed();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.release();
    if (this.body !== null) {
      this.conn.flushed(this.bodyBytes);
      this.body = null;
    }
    const ms = performance.now() - this.startedAt;
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

function dispatchUnlessRejected(exchange: Exchange): void {
  // Refused meanwhile (its own body malformed): already aborted, and dispatch() does nothing.
  if (exchange.conn.socket.destroyed) exchange.abort();
  else exchange.dispatch();
}
