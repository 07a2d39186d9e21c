import { STATUS_CODES, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import httpProxy from 'http-proxy';
import type { Logger } from 'pino';
import { Backend } from '../balancer/backend';
import { FORWARDED_BY_HEADER, ownNodeIn } from '../nodes/node-headers';
import type { DataPlane } from './data-plane';
import { lingeringClose } from './client-connection';
import { Body } from './framing';
import { isRefusal, responseHeaders, type UpstreamRequest } from './headers';
import { BAD_GATEWAY, BAD_UPGRADE, GATEWAY_TIMEOUT, NO_BACKEND } from './raw-responses';

/** The error a backend that does not answer an upgrade within timeouts.responseMs is cut off with. */
const NO_ANSWER = 'LB_UPGRADE_TIMEOUT';

/** After one side of a tunnel has finished sending, the other gets this long to finish too. */
const FIN_GRACE_MS = 1000;

/** An upgrade request as the client connection read it: what http-proxy looks at. */
export interface UpgradeRequest {
  method: string | undefined;
  url: string;
  /** The request as lb forwards it (the data plane's header policy applied); null: not a GET or no path. */
  request: UpstreamRequest | null;
  httpVersion: string;
  /** May go to a backup: it did not come from another node's lb (x-vita-forwarded-by). */
  backups: boolean;
}


/**
 * Ties the two halves of a tunnel. http-proxy pipes them, which passes a FIN on but not a close, and
 * sockets of Node's HTTP servers stay half-open: a vanished client would keep both open. Here a
 * close or FIN on either side ends the other (pending data still flushed), and whatever is still
 * open after a grace period is reset; so is a tunnel idle for `idleMs`.
 */
function tie(client: Socket, backend: Socket, idleMs: number): void {
  let timer: NodeJS.Timeout | undefined;
  const teardown = () => [client, backend].forEach((s) => s.destroyed || s.resetAndDestroy());
  let lastActive = Date.now();
  const active = () => (lastActive = Date.now());
  const idleCheck = setInterval(() => Date.now() - lastActive >= idleMs && teardown(), Math.max(50, idleMs / 10)).unref();
  const finishing = () => (timer ??= setTimeout(teardown, FIN_GRACE_MS).unref());
  for (const [side, other] of [[client, backend], [backend, client]]) {
    side.on('data', active);
    side.once('end', finishing).once('close', () => {
      clearInterval(idleCheck);
      other.end();
      finishing();
    });
  }
}

/**
 * WebSocket upgrades, proxied by http-proxy to a backend the balancer picks. http-proxy pipes the two
 * sockets but does not close one when the other dies; lb does, so no tunnel half outlives the other.
 */
export class WebSocketProxy {
  private readonly proxy = httpProxy.createProxyServer({ ws: true });
  /** Client sockets of open tunnels (closed at the end of a drain). */
  private readonly tunnels = new Set<Socket>();
  private readonly upgraded = new WeakSet<Socket>();
  /** The backend each client socket's upgrade went to. */
  private readonly backendOf = new WeakMap<Socket, Backend>();

  constructor(
    private readonly plane: DataPlane,
    private readonly log: Logger,
  ) {
    // Errors go to the callback of each ws() call; this only keeps a stray one from being thrown.
    this.proxy.on('error', (err: Error) => log.warn({ err: err.message }, 'websocket proxy error'));
    this.proxy.on('proxyReqWs', (proxyReq: ClientRequest, req: IncomingMessage, socket: Socket) => {
      const cancel = () => proxyReq.destroy();
      socket.once('end', cancel).once('close', cancel);
      // A backend that takes the connection and never answers: cut off like any other (504).
      const { connectMs, responseMs } = this.plane.config.timeouts;
      const timer = setTimeout(() => proxyReq.destroy(Object.assign(new Error(`no answer within ${connectMs + responseMs} ms`), { code: NO_ANSWER })), connectMs + responseMs).unref();
      proxyReq.once('close', () => clearTimeout(timer));
      // An answer other than 101 goes to the client framed by lb, like any response (http-proxy would
      // pass the backend's framing headers on with a de-chunked body).
      const emit = proxyReq.emit;
      const backendOf = this.backendOf;
      proxyReq.emit = function (this: ClientRequest, event: string | symbol, ...args: unknown[]): boolean {
        if (event !== 'response') return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
        clearTimeout(timer);
        const res = args[0] as IncomingMessage;
        const backend = backendOf.get(socket);
        if (backend !== undefined) res.rawHeaders = backend.responseHeaders(res.rawHeaders);
        answer(socket, res, req.headers['x-request-id'] as string, req.httpVersion === '1.1');
        return true;
      } as typeof proxyReq.emit;
      proxyReq.once('upgrade', (res: IncomingMessage, backendSocket: Socket) => {
        clearTimeout(timer);
        // (Before http-proxy writes the 101 from these headers.) A backup's names the node that answered.
        const backend = this.backendOf.get(socket);
        if (backend !== undefined && !backend.backup) ownNodeIn(res.headers, backend.link.node);
        socket.off('end', cancel).off('close', cancel);
        this.upgraded.add(socket);
        tie(socket, backendSocket, this.plane.config.timeouts.tunnelIdleMs);
      });
    });
  }

  handle(req: UpgradeRequest, socket: Socket, head: Buffer): void {
    const plane = this.plane;
    socket.on('error', () => socket.destroy());
    // What lb forwards, after the one header policy: lower-case names, repeated ones joined, as http-proxy reads them.
    const h: Record<string, string> = {};
    for (const [name, value] of req.request?.headers ?? []) {
      const key = name.toLowerCase();
      h[key] = h[key] === undefined ? value : `${h[key]}, ${value}`;
    }
    if (plane.draining || req.request === null || req.method !== 'GET' || h['upgrade']?.toLowerCase() !== 'websocket') {
      plane.frontend.rejected++;
      lingeringClose(socket, BAD_UPGRADE());
      return;
    }
    const backend = plane.balancer.pick(Date.now(), null, req.backups);
    if (!(backend instanceof Backend)) {
      plane.frontend.noBackend++;
      lingeringClose(socket, NO_BACKEND());
      return;
    }

    this.backendOf.set(socket, backend);
    if (backend.backup) h[FORWARDED_BY_HEADER.toLowerCase()] = backend.link.node;
    const target = backend.secure ? { protocol: 'https:', host: backend.host, port: backend.port, ca: backend.link.ca?.join('\n'), servername: backend.host } : { host: backend.host, port: backend.port };
    const counters = backend.counters;
    counters.active++;
    counters.total++;
    plane.frontend.websockets++;
    this.tunnels.add(socket);
    socket.once('close', () => {
      counters.active--;
      plane.frontend.websockets--;
      this.tunnels.delete(socket);
      plane.slotFreed();
    });
    this.proxy.ws({ method: req.method, url: req.url, headers: h, httpVersion: req.httpVersion, socket, connection: socket } as unknown as IncomingMessage, socket, head, { target }, (err: NodeJS.ErrnoException) => {
      const opened = this.upgraded.has(socket);
      const timedOut = err.code === NO_ANSWER;
      counters.errors[opened ? 'reset' : timedOut ? 'timeout' : 'connect']++;
      this.log.warn({ backend: backend.name, rid: h['x-request-id'], err: timedOut ? err.message : (err.code ?? err.message) }, opened ? 'websocket tunnel broke' : 'websocket upgrade failed');
      // Before the upgrade the client gets a 502 (504 when the backend did not answer), and the connection closes.
      if (!opened) lingeringClose(socket, timedOut ? GATEWAY_TIMEOUT() : BAD_GATEWAY());
    });
  }

  /** Closes every open tunnel (both sides). */
  close(): void {
    for (const socket of this.tunnels) socket.destroy();
  }
}

/**
 * A backend's answer to an upgrade other than 101, sent to the client framed by lb (one framing
 * decision for every response), and the connection closed after it.
 */
function answer(socket: Socket, res: IncomingMessage, requestId: string, http11: boolean): void {
  const status = res.statusCode ?? 502;
  const headers = responseHeaders(res.rawHeaders, requestId, status, { bodiless: false, http11 });
  if (isRefusal(headers)) {
    res.destroy();
    lingeringClose(socket, BAD_GATEWAY());
    return;
  }
  const chunked = headers.framing.body === Body.Chunked;
  const noBody = headers.framing.body === Body.None;
  socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n${headers.lines}Connection: close\r\n${headers.date ? '' : `Date: ${new Date().toUTCString()}\r\n`}\r\n`, 'latin1');
  res.on('data', (chunk: Buffer) => {
    if (noBody || chunk.length === 0) return;
    if (chunked) socket.write(chunk.length.toString(16) + '\r\n', 'latin1');
    socket.write(chunk);
    if (chunked) socket.write('\r\n', 'latin1');
  });
  res.once('end', () => lingeringClose(socket, chunked ? '0\r\n\r\n' : ''));
  res.once('error', () => socket.destroy());
}
