import { randomUUID } from 'node:crypto';
import { AddressInfo, createServer, Server, Socket } from 'node:net';
import type { Logger } from 'pino';
import type { LbErrorKind } from '@vita/contracts';
import { parseHostPort, requestId } from '@vita/runtime';
import type { Server as TlsServer } from 'node:tls';
import { Backend, MoveCause, RouteState, type ServerLink } from '../balancer/backend';
import { Balancer, FULL } from '../balancer/balancer';
import { addressMatcher, plainAddress } from '../config/address-range';
import { certificateList, redirectNames, type BackendConfig, type LbConfig } from '../config/config';
import { backupRoots } from '../config/tls-files';
import { forwardedByPeer, nodeLine } from '../nodes/node-headers';
import { listenPeers, peerListener } from '../nodes/peer-listener';
import { newFrontendCounters, PlaneSnapshot, statusClass } from '../stats/counters';
import { CertificateSet } from '../https/certificates';
import { challengeStoreFor, type ChallengeStore } from '../https/challenges';
import { PEER_HOP_HEADER, PeerChallengeStore } from '../acme/challenge-store';
import { defaultContext, httpsServer, newTicketKey } from '../https/listener';
import { plainAnswer } from '../https/redirect';
import { LocalAnswer, type Answer } from './local-answer';
import { lbLogDropped, type AccessLog } from '../logging';
import { Admission, descriptorBudget, excessIdle, idleToFree, openFilesLimit, OUT_OF_DESCRIPTORS, refuseConnection } from './admission';
import { ClientConnection, ConnectionOwner, RequestHead } from './client-connection';
import { Exchange } from './exchange';
import { buildRequest, ForwardingPolicy, isRefusal } from './headers';
import { clientError, CONNECT_REFUSED, rawResponse, setNodeName } from './raw-responses';
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
  /** The TLS session ticket key of the HTTPS listener (the same in every data plane, so sessions resume on any). */
  applyTicketKey(key: Buffer): void;
  /** Reads the HTTPS certificates again (a file that fails keeps the certificate it served). */
  reloadCertificates(): void;
  /** Stops accepting, lets in-flight requests finish within `ms`, then closes everything. */
  drain(ms: number): Promise<void>;
}

/** Failures that count against a backend's passive check (a stale pooled connection is not its fault). */
const PASSIVE: ReadonlySet<LbErrorKind> = new Set<LbErrorKind>(['connect', 'reset', 'timeout', 'protocol', 'http5xx']);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The request path: a plain Node TCP server whose connections are read with Node's own HTTP parser
 * (no framework, no http.Server streams), requests going to backends over lb's own keep-alive
 * pools; WebSocket upgrades go through http-proxy. One per process: the only one without workers,
 * one per worker otherwise.
 */
export class DataPlane implements PlaneLink, ForwardingPolicy, ConnectionOwner {
  readonly server: Server;
  /** The TLS listener for other nodes' lbs (peer.listen), if any. */
  peerServer: TlsServer | null = null;
  /** The visitors' HTTPS listener (https.listen), if any. */
  httpsServer: TlsServer | null = null;
  /** The HTTPS certificates (null without https). */
  readonly certificates: CertificateSet | null = null;
  /** Where the plain listener finds ACME http-01 challenges. */
  challenges: ChallengeStore;
  /** https.redirectHttp: plain connections are redirected (the only per-request cost on them is this flag). */
  private redirectPlain = false;
  /** The port https redirects point at (as bound). */
  private httpsPort = 443;
  private ticketKey: Buffer = newTicketKey();
  /** `X-Vita-Node: <this node>\r\n`: on every response of lb's own (fixed at start, like the listeners). */
  readonly nodeLine: string;
  readonly frontend = newFrontendCounters();
  readonly balancer: Balancer<Backend<Upstream>>;
  readonly upstreamOptions: UpstreamOptions;
  config: LbConfig;
  draining = false;
  private backends = new Map<string, Backend<Upstream>>();
  private queue: Exchange[] = [];
  private queueTimer: NodeJS.Timeout | null = null;
  private readonly idleSweep: NodeJS.Timeout;
  private clientSweep: NodeJS.Timeout | null = null;
  private firstByteSweep: NodeJS.Timeout | null = null;
  private readonly connections = new Set<ClientConnection>();
  private trusted: (address: string) => boolean = () => false;
  private readonly websockets: WebSocketProxy;
  /** Caps on client connections (limits.maxConnections, …PerAddress, maxIdleConnections). */
  private readonly admission: Admission;
  private readonly idleCap: NodeJS.Timeout;

  constructor(
    config: LbConfig,
    private readonly events: PlaneEvents,
    private readonly log: Logger,
    private readonly accessLog: AccessLog | null,
    /** How many data planes share the backends' maxconn. */
    private readonly planes = 1,
  ) {
    this.config = config;
    this.nodeLine = nodeLine(config.nodeName);
    const https = config.https;
    this.challenges = challengeStoreFor(https);
    if (https !== undefined) {
      this.certificates = new CertificateSet();
      this.certificates.load(certificateList(https), true);
      this.redirectPlain = https.redirectHttp;
    }
    setNodeName(config.nodeName);
    this.upstreamOptions = { connectMs: 0, responseMs: 0, maxIdle: 0 };
    this.balancer = new Balancer<Backend<Upstream>>([], config.algorithm, config.slowStartMs);
    this.admission = new Admission(config.limits, this.frontend, log);
    this.server = createServer({ noDelay: true }, this.onConnection);
    // Past listen(): accept errors are counted and logged (at most once per 10 s), never fatal. Out of
    // file descriptors, libuv closes the connections it cannot take and accepting goes on (Node does
    // not always report it); lb's own cap stays below the descriptors it has (see admission.ts).
    this.server.on('error', (err: NodeJS.ErrnoException) => this.acceptFailed(err));
    this.idleCap = setInterval(() => this.closeExcessIdle(), 250).unref();
    this.websockets = new WebSocketProxy(this, log);
    this.applyConfig(config);
    this.idleSweep = setInterval(() => this.closeIdleUpstreams(), 250).unref();
  }

  async listen(): Promise<AddressInfo> {
    const { host, port } = parseHostPort(this.config.listen);
    const address = await new Promise<AddressInfo>((resolve, reject) => {
      const failed = (err: Error) => reject(new Error(`cannot listen on ${this.config.listen}: ${err.message}`));
      this.server.prependOnceListener('error', failed);
      this.server.listen(port, host, () => {
        this.server.off('error', failed);
        resolve(this.server.address() as AddressInfo);
      });
    });
    // Other nodes' lbs: the same request path, over TLS.
    this.peerServer = peerListener(this.config, this.onTlsConnection);
    if (this.peerServer !== null) await listenPeers(this.peerServer, this.config);
    if (this.certificates !== null && this.config.https !== undefined) {
      const listen = this.config.https.listen;
      this.httpsServer = httpsServer(this.certificates, this.ticketKey, this.config.timeouts.headersMs, this.onTlsConnection);
      const server = this.httpsServer;
      const { host, port } = parseHostPort(listen);
      this.httpsPort = await new Promise<number>((resolve, reject) => {
        const failed = (err: Error) => reject(new Error(`cannot listen on ${listen} (https.listen): ${err.message}`));
        server.prependOnceListener('error', failed);
        server.listen(port, host, () => {
          server.off('error', failed);
          resolve((server.address() as AddressInfo).port);
        });
      });
    }
    return address;
  }

  get maxHeaderBytes(): number {
    return this.config.limits.maxHeaderBytes;
  }

  get chunkedBodyBufferBytes(): number {
    return this.config.limits.chunkedBodyBufferBytes;
  }

  get closing(): boolean {
    return this.draining;
  }

  // ---- the request path ----

  private readonly onConnection = (socket: Socket): void => {
    this.accept(socket, false);
  };

  /** A connection over TLS (the HTTPS listener, or the peer listener): X-Forwarded-Proto https, never redirected. */
  private readonly onTlsConnection = (socket: Socket): void => {
    this.accept(socket, true);
  };

  private accept(socket: Socket, tls: boolean): void {
    const peer = this.peer(socket);
    // Refused before a byte is read: a 503 and closed (counted, logged in a summary).
    if (!this.admission.take(peer, this.trusted(peer))) return refuseConnection(socket);
    this.frontend.connections++;
    const conn = new ClientConnection(socket, this, peer);
    conn.tls = tls;
    this.connections.add(conn);
  }

  onClose(conn: ClientConnection): void {
    this.frontend.connections--;
    this.connections.delete(conn);
    this.admission.release(conn.peer);
  }

  /** Idle client connections past limits.maxIdleConnections are closed, the longest-idle first. */
  private closeExcessIdle(): void {
    const keep = this.admission.limits.maxIdleConnections;
    if (this.connections.size <= keep) return;
    const excess = excessIdle(this.connections, keep);
    for (const conn of excess) conn.closeIdle();
    this.admission.closedIdle(excess.length, 'maxIdleConnections');
  }

  private acceptFailed(err: NodeJS.ErrnoException): void {
    const code = err.code ?? 'unknown';
    this.admission.acceptError(code);
    if (!OUT_OF_DESCRIPTORS.has(code)) return;
    // Out of descriptors: idle connections make room for ones with something to do.
    const victims = idleToFree(this.connections);
    for (const conn of victims) conn.socket.destroy();
    this.admission.closedIdle(victims.length, 'descriptors');
  }

  onRequest(conn: ClientConnection, head: RequestHead): void {
    this.frontend.total++;
    this.frontend.active++;
    const { method, url } = head;
    // Origin-form only: an absolute-form target (`GET http://elsewhere/`) or `*` never reaches a backend.
    if (url.charCodeAt(0) !== 47) return this.reject(conn, method, 'the request target must be a path');
    if (method === undefined) return this.reject(conn, method, 'unsupported method');
    const request = buildRequest(method, url, head.rawHeaders, conn.peer, this, head.http11, false, conn.tls);
    if (isRefusal(request)) return this.reject(conn, method, request.error);
    if (this.certificates !== null && !conn.tls && this.answerPlain(conn, head, request.host)) return;
    if (request.expect !== undefined && !(head.http11 && /^\s*100-continue\s*$/i.test(request.expect))) {
      return this.reject(conn, method, 'unsupported expectation', '417 Expectation Failed');
    }
    if (this.draining) conn.closeAfter = true;
    const exchange = new Exchange(this, conn, head, request);
    // Another node's lb sent it: local backends only, never on to a backup (no loops between nodes).
    if (forwardedByPeer(head.rawHeaders)) exchange.backups = false;
    conn.add(exchange, request.hasBody);
  }

  /**
   * https on, a plain connection: an ACME challenge is answered (from this node's store, else asked
   * of https.challengePeers); with https.redirectHttp, /health/* goes on as always (false) and
   * anything else is redirected to https (a host lb does not serve: 400).
   */
  private answerPlain(conn: ClientConnection, head: RequestHead, host: string | undefined): boolean {
    const https = this.config.https;
    const names = https === undefined ? [] : redirectNames(https);
    const allowed = (name: string) => this.certificates?.serves(name) === true || names.includes(name);
    const answer = plainAnswer(head.url, host, allowed, this.httpsPort, this.redirectPlain);
    if (answer.kind === 'forward') return false;
    if (answer.kind === 'refuse') {
      this.reject(conn, head.method, answer.why);
      return true;
    }
    let reply: Answer | (() => Promise<Answer>);
    if (answer.kind === 'redirect') reply = { status: 308, headers: this.nodeLine + 'Location: ' + answer.location + '\r\n', body: '' };
    else {
      const { token } = answer;
      const local = this.challenges.get(token);
      const store = this.challenges;
      const forwarded = hasHeader(head.rawHeaders, PEER_HOP_HEADER);
      reply =
        local === undefined && store instanceof PeerChallengeStore
          ? () => store.resolve(token, forwarded ? { [PEER_HOP_HEADER]: '1' } : {}).then((v) => this.challengeAnswer(v))
          : this.challengeAnswer(local);
    }
    const done = (answered: number) => {
      this.frontend.active--;
      this.frontend.classes[statusClass(answered)]++;
    };
    conn.add(new LocalAnswer(conn, head, reply, done), false);
    return true;
  }

  private challengeAnswer(value: string | undefined): Answer {
    const type = value === undefined ? 'text/plain; charset=utf-8' : 'application/octet-stream';
    return { status: value === undefined ? 404 : 200, headers: this.nodeLine + 'Content-Type: ' + type + '\r\nCache-Control: no-store\r\n', body: value ?? 'no such challenge\n' };
  }

  applyTicketKey(key: Buffer): void {
    this.ticketKey = key;
    this.httpsServer?.setTicketKeys(key);
  }

  reloadCertificates(): void {
    const https = this.config.https;
    if (this.certificates === null || https === undefined) return;
    const errors = this.certificates.load(certificateList(https), false);
    for (const error of errors) this.log.error({ error }, 'certificate refused: the one loaded before stays in force');
    // The default context (clients without SNI); SNI contexts are picked per handshake. Open connections keep theirs.
    this.httpsServer?.setSecureContext(defaultContext(this.certificates, this.ticketKey));
  }

  private reject(conn: ClientConnection, method: string | undefined, why: string, status = '400 Bad Request'): void {
    this.frontend.rejected++;
    this.frontend.active--;
    this.frontend.classes[3]++;
    conn.refuse(rawResponse(status, `${why}\n`));
    this.log.warn({ method, peer: conn.peer, why }, 'rejected request');
  }

  /** Malformed requests (Node's parser rejected them): answered here, never forwarded. */
  onMalformed(conn: ClientConnection, code: string): void {
    if (conn.refused) return;
    this.frontend.rejected++;
    this.log.warn({ peer: conn.peer, code }, 'rejected malformed request');
    conn.refuse(clientError(code));
  }

  onUpgrade(conn: ClientConnection, head: RequestHead, bodyHead: Buffer): void {
    // Refusals go through the connection, so they wait for the answers to earlier requests.
    if (head.method === 'CONNECT') {
      this.frontend.rejected++;
      return conn.refuse(CONNECT_REFUSED());
    }
    if (conn.users.length > 0) return this.refuseUpgrade(conn, head, 'an upgrade must not follow unanswered requests');
    // The same header and framing policy as plain requests; the result is what http-proxy sends.
    const request = head.method === undefined || head.url.charCodeAt(0) !== 47 ? null : buildRequest(head.method, head.url, head.rawHeaders, conn.peer, this, head.http11, true, conn.tls);
    if (request !== null && isRefusal(request)) return this.refuseUpgrade(conn, head, request.error);
    this.websockets.handle({ method: head.method, url: head.url, request, httpVersion: head.http11 ? '1.1' : '1.0', backups: !forwardedByPeer(head.rawHeaders) }, conn.socket, bodyHead);
  }

  private refuseUpgrade(conn: ClientConnection, head: RequestHead, why: string): void {
    this.frontend.rejected++;
    this.log.warn({ method: head.method, peer: conn.peer, why }, 'rejected upgrade');
    conn.refuse(rawResponse('400 Bad Request', `${why}\n`));
  }

  /** Slow clients: a request head or body that takes too long gets 408; idle keep-alive connections are closed. */
  private sweepClients(): void {
    const now = Date.now();
    const t = this.config.timeouts;
    for (const conn of this.connections) {
      // (A refused connection closes once its earlier requests are answered: those have their own limits.)
      if (conn.upgraded || conn.refused) continue;
      if ((conn.headersSince !== 0 && now - conn.headersSince > t.headersMs) || (conn.requestSince !== 0 && now - conn.requestSince > t.requestMs)) {
        this.onMalformed(conn, 'ERR_HTTP_REQUEST_TIMEOUT');
      } else if (conn.idleSince !== 0 && now - conn.idleSince > t.clientKeepAliveMs) {
        // Idle: closed once the last response has left; a client that has not taken it within
        // responseMs is gone.
        if (conn.idle || (conn.users.length === 0 && now - conn.idleSince > t.responseMs)) conn.closeIdle();
      }
    }
  }

  peer(socket: Socket): string {
    return plainAddress(socket.remoteAddress ?? '');
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
    this.moveOff(backend);
  }

  /** A backend was taken out: the requests waiting on it for a response head that may go elsewhere do, at once. */
  private moveOff(backend: Backend<Upstream>): void {
    if (backend.awaiting.size === 0) return;
    let moved = 0;
    for (const waiting of [...backend.awaiting]) if (waiting.move('down')) moved++;
    if (moved > 0) this.log.info({ backend: backend.name, moved, left: backend.awaiting.size }, 'requests waiting on a backend taken out sent to another');
  }

  /** Requests that have waited `timeouts.firstByteMs` for a response head go to another backend if they can (Exchange.move). */
  private sweepFirstByte(): void {
    const limit = this.config.timeouts.firstByteMs;
    if (limit === 0) return;
    const cutoff = performance.now() - limit;
    for (const b of [...this.backends.values()]) {
      // Oldest first: the rest were sent later. Taken one backend at a time, each request checked
      // where it waits now: a request this sweep moved to another backend is not late there.
      let charged = false;
      for (const waiting of [...b.awaiting]) {
        if (waiting.sentAt > cutoff) break;
        if (waiting.backend !== b) continue;
        // One passive failure per backend per sweep, however many requests were late on it: a
        // burst of slow requests is one sign, and answers in between still reset the count.
        if (waiting.move('slow', !charged)) charged = true;
      }
    }
  }

  /**
   * Whether a request on `from` has another backend to go to: eligible, not in `avoid`, and (when
   * `withSlot`) below its maxconn (otherwise the request may wait in the queue); among the local
   * backends, or the backups while no local one is eligible (if the request may use them).
   */
  hasOtherBackend(from: Backend<Upstream>, avoid: readonly Backend<Upstream>[] | null, withSlot: boolean, useBackups = true): boolean {
    for (const b of this.balancer.serving(useBackups)) {
      if (b !== from && b.eligible && (avoid === null || !avoid.includes(b)) && (!withSlot || b.active < b.maxconn)) return true;
    }
    return false;
  }

  logRetry(exchange: Exchange, backend: Backend<Upstream>, why: LbErrorKind | MoveCause, detail: string): void {
    this.log.debug({ rid: exchange.request.requestId, backend: backend.name, why, detail, attempt: exchange.attempts }, 'retrying on another backend');
  }

  logAccess(exchange: Exchange, ms: number): void {
    const log = this.accessLog;
    if (log === null || (exchange.status < 500 && exchange.status !== 499 && Math.random() >= this.config.accessLog.sample)) return;
    log.write({
      rid: exchange.request.requestId,
      method: exchange.method,
      path: exchange.url,
      status: exchange.status,
      backend: exchange.backend?.name ?? null,
      attempts: exchange.attempts,
      ms: Math.round(ms * 100) / 100,
      // Until the backend's response head arrived (queueing, connecting, retries and the backend's work).
      upstreamMs: exchange.headAt === 0 ? null : Math.round((exchange.headAt - exchange.startedAt) * 100) / 100,
    });
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
      const picked = this.balancer.pick(Date.now(), null, this.queue[0].backups);
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
    // The node name is the one this process started with (a change needs a restart).
    const node = this.config.nodeName;
    const ca = config.backups.some((b) => b.url.startsWith('https:')) ? backupRoots(config) : undefined;
    const place = (c: BackendConfig, link: ServerLink) => {
      const maxconn = Math.max(1, Math.ceil(c.maxconn / this.planes));
      const old = previous.get(c.name);
      const kept = old !== undefined && old.config.url === c.url && old.backup === link.backup;
      if (kept) old.reconfigure(c, maxconn, link);
      next.set(c.name, kept ? old : new Backend<Upstream>(c, maxconn, link));
    };
    for (const c of config.backends) place(c, { backup: false, node });
    for (const c of config.backups) place(c, { backup: true, node, ca });
    for (const [name, b] of previous) if (next.get(name) !== b) b.retire();
    this.backends = next;
    this.config = { ...config, nodeName: node };
    const all = [...next.values()];
    this.balancer.backends = all.filter((b) => !b.backup);
    this.balancer.backups = all.filter((b) => b.backup);
    this.balancer.algorithm = config.algorithm;
    this.balancer.slowStartMs = config.slowStartMs;
    Object.assign(this.upstreamOptions, { connectMs: config.timeouts.connectMs, responseMs: config.timeouts.responseMs, maxIdle: config.limits.maxIdlePerBackend });
    this.trusted = addressMatcher(config.trustedProxies);
    // (https itself, on or off, is fixed at start: its other settings follow reloads.)
    this.redirectPlain = this.certificates !== null && config.https?.redirectHttp === true;
    if (this.certificates !== null) this.challenges = challengeStoreFor(config.https, this.challenges);
    this.admitWithin(config);
    if (this.clientSweep !== null) clearInterval(this.clientSweep);
    const t = config.timeouts;
    this.clientSweep = setInterval(() => this.sweepClients(), Math.max(10, Math.min(250, t.headersMs / 4, t.requestMs / 4, t.clientKeepAliveMs / 4))).unref();
    if (this.firstByteSweep !== null) clearInterval(this.firstByteSweep);
    // A tenth of the limit (at most 100 ms): a late request moves within 10% of it.
    this.firstByteSweep = t.firstByteMs === 0 ? null : setInterval(() => this.sweepFirstByte(), Math.max(10, Math.min(100, t.firstByteMs / 10))).unref();
  }

  /** The connection caps of `config`, maxConnections lowered to what this process's open-file limit allows. */
  private admitWithin(config: LbConfig): void {
    const shares = [...config.backends, ...config.backups].map((b) => ({ maxconn: Math.max(1, Math.ceil(b.maxconn / this.planes)) }));
    const openFiles = openFilesLimit();
    const wasLowered = this.admission.lowered;
    this.admission.configure(config.limits, descriptorBudget(openFiles, shares, config.limits.maxIdlePerBackend));
    const lowered = this.admission.lowered;
    if (lowered !== null && lowered !== wasLowered) {
      this.log.warn({ configured: lowered, inForce: this.admission.limits.maxConnections, openFiles }, 'limits.maxConnections lowered to what the open-file limit allows (raise it: ulimit -n, LimitNOFILE, docker --ulimit nofile)');
    }
  }

  applyRoutes(routes: RouteState[]): void {
    // Every route first, so that requests moved off a backend taken out avoid any other taken out with it.
    const down: Backend<Upstream>[] = [];
    for (const route of routes) {
      const b = this.backends.get(route.name);
      if (b?.setRoute(route)) down.push(b);
    }
    for (const b of down) this.moveOff(b);
    if (this.queue.length > 0) this.slotFreed();
  }

  async snapshot(): Promise<PlaneSnapshot> {
    const backends = Object.fromEntries([...this.backends.values()].map((b) => [b.name, b.counters]));
    const frontend = { ...this.frontend, queued: this.queue.length, connectionLimit: this.admission.limits.maxConnections, accessLogDropped: this.accessLog?.dropped ?? 0, logDropped: lbLogDropped() };
    return { pid: process.pid, frontend, backends, rssBytes: process.memoryUsage.rss() };
  }

  async drain(ms: number): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      this.server.close();
      this.peerServer?.close();
      this.httpsServer?.close();
    }
    const deadline = Date.now() + ms;
    const busy = () => [...this.connections].filter((c) => !c.upgraded);
    while (busy().length > 0 && Date.now() < deadline) {
      for (const conn of busy()) {
        if (conn.idle) conn.socket.destroy();
        else conn.closeAfter = true;
      }
      await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
    }
    for (const conn of this.connections) conn.socket.destroy();
    this.websockets.close();
    clearInterval(this.idleSweep);
    clearInterval(this.idleCap);
    this.admission.stop();
    if (this.clientSweep !== null) clearInterval(this.clientSweep);
    if (this.firstByteSweep !== null) clearInterval(this.firstByteSweep);
    this.stopQueueTimer();
    for (const b of this.backends.values()) b.retire();
  }
}

/** Whether a request head carries `name` (lower-case). */
function hasHeader(raw: readonly string[], name: string): boolean {
  for (let i = 0; i < raw.length; i += 2) if (raw[i].length === name.length && raw[i].toLowerCase() === name) return true;
  return false;
}
