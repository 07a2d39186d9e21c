import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import httpProxy from 'http-proxy';
import type { Logger } from 'pino';
import { Backend } from '../balancer/backend';
import type { DataPlane } from './data-plane';
import { forwarded } from './headers';
import { BAD_GATEWAY, BAD_UPGRADE, NO_BACKEND } from './raw-responses';

/** After one side of a tunnel has finished sending, the other gets this long to finish too. */
const FIN_GRACE_MS = 1000;

const HOP_BY_HOP = ['keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'proxy-authorization'];

/** An upgrade request as the client connection read it: what http-proxy looks at. */
export interface UpgradeRequest {
  method: string | undefined;
  url: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string | undefined>;
  httpVersion: string;
  socket: Socket;
  connection: Socket;
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

  constructor(
    private readonly plane: DataPlane,
    private readonly log: Logger,
  ) {
    // Errors go to the callback of each ws() call; this only keeps a stray one from being thrown.
    this.proxy.on('error', (err: Error) => log.warn({ err: err.message }, 'websocket proxy error'));
    this.proxy.on('proxyReqWs', (proxyReq, _req, socket: Socket) => {
      const cancel = () => proxyReq.destroy();
      socket.once('end', cancel).once('close', cancel);
      proxyReq.once('upgrade', (_res, backendSocket: Socket) => {
        socket.off('end', cancel).off('close', cancel);
        this.upgraded.add(socket);
        tie(socket, backendSocket, this.plane.config.timeouts.tunnelIdleMs);
      });
    });
  }

  handle(req: UpgradeRequest, socket: Socket, head: Buffer, peer: string): void {
    const plane = this.plane;
    socket.on('error', () => socket.destroy());
    if (plane.draining || req.method !== 'GET' || req.headers['upgrade']?.toLowerCase() !== 'websocket' || req.url.charCodeAt(0) !== 47) {
      plane.frontend.rejected++;
      socket.end(BAD_UPGRADE);
      return;
    }
    const backend = plane.balancer.pick(Date.now());
    if (!(backend instanceof Backend)) {
      plane.frontend.noBackend++;
      socket.end(NO_BACKEND);
      return;
    }
    const h = req.headers;
    const given = h['x-forwarded-for'] !== undefined || h['x-forwarded-proto'] !== undefined || h['x-forwarded-host'] !== undefined;
    const f = forwarded(peer, given && plane.trusts(peer), { for: h['x-forwarded-for'], proto: h['x-forwarded-proto'], host: h['x-forwarded-host'] }, h['host']);
    h['x-forwarded-for'] = f.for;
    h['x-forwarded-proto'] = f.proto;
    if (f.host === undefined) delete h['x-forwarded-host'];
    else h['x-forwarded-host'] = f.host;
    h['x-request-id'] = plane.requestId(h['x-request-id']);
    for (const name of HOP_BY_HOP) delete h[name];

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
    this.proxy.ws(req as unknown as IncomingMessage, socket, head, { target: { host: backend.host, port: backend.port } }, (err: NodeJS.ErrnoException) => {
      const opened = this.upgraded.has(socket);
      counters.errors[opened ? 'reset' : 'connect']++;
      this.log.warn({ backend: backend.name, rid: h['x-request-id'], err: err.code ?? err.message }, opened ? 'websocket tunnel broke' : 'websocket upgrade failed');
      // http-proxy ends the client socket after this; before the upgrade the client gets a 502 first.
      if (!opened && socket.writable) socket.write(BAD_GATEWAY);
    });
  }

  /** Closes every open tunnel (both sides). */
  close(): void {
    for (const socket of this.tunnels) socket.destroy();
  }
}
