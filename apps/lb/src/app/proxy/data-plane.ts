import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { LbErrorKind } from '@vita/contracts';
import { parseHostPort, requestId } from '@vita/runtime';
import { Backend, RouteState } from '../balancer/backend';
import { Balancer, FULL } from '../balancer/balancer';
import { addressMatcher, plainAddress } from '../config/address-range';
import type { LbConfig } from '../config/config';
import { newFrontendCounters, PlaneSnapshot } from '../stats/counters';
import { Exchange } from './exchange';
import { buildRequest, ForwardingPolicy } from './headers';
import { BAD_REQUEST, CLIENT_ERRORS, CONNECT_REFUSED } from './raw-responses';
import type { Upstream, UpstreamOptions } from './upstream';
import { WebSocketProxy } from './websocket';

/** What a data plane tells the control plane. */
export interface PlaneEvents {
  /** A backend failed `passive.maxFailures` requests in a row; the data plane has stopped using it. */
  passiveDown(name: string, reason: string): void;
}

/** The control plane's handle on a data plane, in this process or in a worker. */
export interface PlaneLink {
  applyConfig(config: LbConfig): void;
  applyRoutes(routes: RouteState[]): void;
  snapshot(): Promise<PlaneSnapshot>;
  /** Stops accepting, lets in-flight requests finish within `ms`, then closes everything. */
  drain(ms: number): Promise<void>;
}

/** Failures that count against a backend's passive check (a stale pooled connection is not its fault). */
const PASSIVE: ReadonlySet<LbErrorKind> = new Set<LbErrorKind>(['connect', 'reset', 'timeout', 'protocol', 'http5xx']);

const kPeer = Symbol('lb.peer');
const kInFlight = Symbol('lb.inFlight');
type ClientSocket = Socket & { [kPeer]?: string; [kInFlight]?: Exchange[] };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The request path: a plain Node HTTP server (no framework) whose requests go to backends over
 * lb's own keep-alive pools; WebSocket upgrades go through http-proxy. One per process: the only
 * one without workers, one per worker otherwise.
 */
export class DataPlane implements PlaneLink, ForwardingPolicy {
  readonly server: Server;
  readonly frontend = newFrontendCounters();
  readonly balancer: Balancer<Backend<Upstream>>;
  readonly upstreamOptions: UpstreamOptions;
  config: LbConfig;
  draining = false;
  private backends = new Map<string, Backend<Upstream>>();
  private queue: Exchange[] = [];
  private queueTimer: NodeJS.Timeout | null = null;
  private readonly idleSweep: NodeJS.Timeout;
  private readonly sockets = new Set<Socket>();
  private trusted: (address: string) => boolean = () => false;
  private readonly websockets: WebSocketProxy;

  constructor(
    config: LbConfig,
    private readonly events: PlaneEvents,
    private readonly log: Logger,
    private readonly accessLog: Logger | null,
    /** How many data planes share the backends' maxconn. */
    private readonly planes = 1,
  ) {
    this.config = config;
    this.upstreamOptions = { connectMs: 0, responseMs: 0, maxIdle: 0 };
    this.balancer = new Balancer<Backend<Upstream>>([], config.algorithm, config.slowStartMs);
    this.server = createServer(
      {
        maxHeaderSize: config.limits.maxHeaderBytes,
        headersTimeout: config.timeouts.headersMs,
        requestTimeout: config.timeouts.requestMs,
        keepAliveTimeout: config.timeouts.clientKeepAliveMs,
        connectionsCheckingInterval: Math.min(1000, Math.ceil(config.timeouts.headersMs / 2)),
        noDelay: true,
        requireHostHeader: true,
      },
      this.onRequest,
    );
    // Past listen(): accept errors (e.g. out of file descriptors) are logged, never fatal.
    this.server.on('error', (err: Error) => log.error({ err: err.message }, 'data-plane server error'));
    this.server.on('connection', this.onConnection);
    this.server.on('clientError', this.onClientError);
    this.server.on('connect', this.onConnect);
    this.websockets = new WebSocketProxy(this, log);
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.websockets.handle(req, socket, head, this.peer(socket)));
    this.applyConfig(config);
    this.idleSweep = setInterval(() => this.closeIdleUpstreams(), 250).unref();
  }

  listen(): Promise<AddressInfo> {
    const { host, port } = parseHostPort(this.config.listen);
    return new Promise((resolve, reject) => {
      const failed = (err: Error) => reject(new Error(`cannot listen on ${this.config.listen}: ${err.message}`));
      this.server.prependOnceListener('error', failed);
      this.server.listen(port, host, () => {
        this.server.off('error', failed);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  // ---- the request path ----

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    this.frontend.total++;
    this.frontend.active++;
    const url = req.url as string;
    // Origin-form only: an absolute-form target (`GET http://elsewhere/`) or `*` never reaches a backend.
    const request = url.charCodeAt(0) === 47 ? buildRequest(req.method as string, url, req.rawHeaders, this.peer(req.socket), this) : null;
    if (request === null) return this.reject(req, res, url.charCodeAt(0) === 47 ? 'unsupported transfer coding' : 'the request target must be a path');
    if (this.draining) res.shouldKeepAlive = false;
    const exchange = new Exchange(this, req, res, request, (req.socket as ClientSocket)[kInFlight] ?? []);
    // A request with a body waits one tick: if the rest of the packet it came in is malformed
    // (bad chunking), the parser has rejected it and destroyed the socket by then, and the request
    // never reaches a backend.
    if (request.hasBody) process.nextTick(dispatchUnlessRejected, exchange);
    else exchange.dispatch();
  };

  private reject(req: IncomingMessage, res: ServerResponse, why: string): void {
    this.frontend.rejected++;
    this.frontend.active--;
    this.frontend.classes[3]++;
    res.shouldKeepAlive = false;
    res.writeHead(400, ['Content-Type', 'text/plain; charset=utf-8', 'Connection', 'close']).end(`${why}\n`);
    this.log.warn({ method: req.method, peer: this.peer(req.socket), why }, 'rejected request');
  }

  private readonly onConnection = (socket: Socket): void => {
    this.frontend.connections++;
    this.sockets.add(socket);
    const inFlight: Exchange[] = ((socket as ClientSocket)[kInFlight] = []);
    socket.once('close', () => {
      this.frontend.connections--;
      this.sockets.delete(socket);
      // The client went away: cancel what it was waiting for.
      for (const exchange of [...inFlight]) exchange.abort();
    });
  };

  /** Malformed requests (Node's parser rejected them): answered here, never forwarded. */
  private readonly onClientError = (err: NodeJS.ErrnoException, socket: Socket): void => {
    const code = err.code ?? '';
    const hostile = code.startsWith('HPE_') || code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (hostile) {
      this.frontend.rejected++;
      this.log.warn({ peer: this.peer(socket), code }, 'rejected malformed request');
    }
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (hostile && socket.writable && !inFlight?.headersSent) socket.write(CLIENT_ERRORS[code] ?? BAD_REQUEST);
    socket.destroy();
  };

  private readonly onConnect = (_req: IncomingMessage, socket: Socket): void => {
    this.frontend.rejected++;
    socket.end(CONNECT_REFUSED);
    socket.destroySoon();
  };

  peer(socket: Socket): string {
    const s = socket as ClientSocket;
    return (s[kPeer] ??= plainAddress(socket.remoteAddress ?? ''));
  }

  trusts(address: string): boolean {
    return this.trusted(address);
  }

  requestId(given: string | undefined): string {
    return given === undefined ? randomUUID() : requestId({ headers: { 'x-request-id': given } });
  }

  // ---- backends: failures, queue, pools ----

  backendError(backend: Backend<Upstream>, kind: LbErrorKind, detail: string): void {
    backend.counters.errors[kind]++;
    const limit = this.config.passive.maxFailures;
    if (!PASSIVE.has(kind) || limit === 0) return;
    if (++backend.failures < limit || !backend.route.up) return;
    const reason = `${backend.failures} failed requests in a row, the last: ${kind} (${detail})`;
    backend.setRoute({ ...backend.route, up: false });
    this.log.warn({ backend: backend.name, reason }, 'backend taken out by passive check');
    this.events.passiveDown(backend.name, reason);
  }

  logRetry(exchange: Exchange, backend: Backend<Upstream>, kind: LbErrorKind, detail: string): void {
    this.log.debug({ rid: exchange.request.requestId, backend: backend.name, kind, detail, attempt: exchange.attempts }, 'retrying on another backend');
  }

  logAccess(exchange: Exchange, ms: number): void {
    const log = this.accessLog;
    if (log === null || (exchange.status < 500 && exchange.status !== 499 && Math.random() >= this.config.accessLog.sample)) return;
    const req = exchange.req;
    const line = {
      rid: exchange.request.requestId,
      method: req.method,
      path: req.url,
      status: exchange.status,
      backend: exchange.backend?.name ?? null,
      attempts: exchange.attempts,
      ms: Math.round(ms * 100) / 100,
      // Until the backend's response head arrived (queueing, connecting, retries and the backend's work).
      upstreamMs: exchange.headAt === 0 ? null : Math.round((exchange.headAt - exchange.start) * 100) / 100,
    };
    if (exchange.status >= 500) log.warn(line, 'request');
    else log.info(line, 'request');
  }

  enqueue(exchange: Exchange): void {
    if (this.queue.length >= this.config.queue.max) return exchange.fail(503, 'queueFull');
    exchange.queuedAt = Date.now();
    this.queue.push(exchange);
    this.queueTimer ??= setInterval(() => this.expireQueue(), Math.min(100, this.config.queue.timeoutMs));
  }

  unqueue(exchange: Exchange): void {
    const i = this.queue.indexOf(exchange);
    if (i >= 0) this.queue.splice(i, 1);
    exchange.queuedAt = 0;
  }

  /** A maxconn slot came free: start the longest-waiting request that can go now. */
  slotFreed(): void {
    while (this.queue.length > 0) {
      const picked = this.balancer.pick(Date.now());
      if (picked === FULL || picked === null) return;
      const exchange = this.queue.shift() as Exchange;
      exchange.queuedAt = 0;
      exchange.attempt(picked);
    }
    this.stopQueueTimer();
  }

  private expireQueue(): void {
    const cutoff = Date.now() - this.config.queue.timeoutMs;
    while (this.queue.length > 0 && this.queue[0].queuedAt <= cutoff) {
      const exchange = this.queue.shift() as Exchange;
      exchange.queuedAt = 0;
      exchange.fail(503, 'queueTimeouts');
    }
    if (this.queue.length === 0) this.stopQueueTimer();
  }

  private stopQueueTimer(): void {
    if (this.queueTimer === null) return;
    clearInterval(this.queueTimer);
    this.queueTimer = null;
  }

  private closeIdleUpstreams(): void {
    const cutoff = Date.now() - this.config.timeouts.upstreamIdleMs;
    for (const b of this.backends.values()) b.closeIdleBefore(cutoff);
  }

  // ---- control ----

  applyConfig(config: LbConfig): void {
    const previous = this.backends;
    const next = new Map<string, Backend<Upstream>>();
    for (const c of config.backends) {
      const maxconn = Math.max(1, Math.ceil(c.maxconn / this.planes));
      const old = previous.get(c.name);
      if (old !== undefined && old.config.url === c.url) old.reconfigure(c, maxconn);
      next.set(c.name, old !== undefined && old.config.url === c.url ? old : new Backend<Upstream>(c, maxconn));
    }
    for (const [name, b] of previous) if (next.get(name) !== b) b.retire();
    this.backends = next;
    this.config = config;
    this.balancer.backends = [...next.values()];
    this.balancer.algorithm = config.algorithm;
    this.balancer.slowStartMs = config.slowStartMs;
    Object.assign(this.upstreamOptions, { connectMs: config.timeouts.connectMs, responseMs: config.timeouts.responseMs, maxIdle: config.limits.maxIdlePerBackend });
    this.trusted = addressMatcher(config.trustedProxies);
    Object.assign(this.server, {
      maxHeaderSize: config.limits.maxHeaderBytes,
      headersTimeout: config.timeouts.headersMs,
      requestTimeout: config.timeouts.requestMs,
      keepAliveTimeout: config.timeouts.clientKeepAliveMs,
    });
  }

  applyRoutes(routes: RouteState[]): void {
    for (const route of routes) this.backends.get(route.name)?.setRoute(route);
    if (this.queue.length > 0) this.slotFreed();
  }

  async snapshot(): Promise<PlaneSnapshot> {
    const backends = Object.fromEntries([...this.backends.values()].map((b) => [b.name, b.counters]));
    return { pid: process.pid, frontend: { ...this.frontend, queued: this.queue.length }, backends, rssBytes: process.memoryUsage.rss() };
  }

  async drain(ms: number): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      this.server.close();
    }
    const deadline = Date.now() + ms;
    while (this.sockets.size > 0 && Date.now() < deadline) {
      this.server.closeIdleConnections();
      await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
    }
    for (const socket of this.sockets) socket.destroy();
    this.websockets.close();
    clearInterval(this.idleSweep);
    this.stopQueueTimer();
    for (const b of this.backends.values()) b.retire();
  }
}

function dispatchUnlessRejected(exchange: Exchange): void {
  if (exchange.req.socket.destroyed) exchange.abort();
  else exchange.dispatch();
}
