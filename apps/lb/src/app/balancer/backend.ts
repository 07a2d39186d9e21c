import { connect as connectTcp, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { LbAdminState } from '@vita/contracts';
import type { BackendConfig } from '../config/config';
import { forwardedHead, ownNode } from '../nodes/node-headers';
import { newBackendCounters } from '../stats/counters';

/** What the control plane decides about a backend and every data plane follows. */
export interface RouteState {
  name: string;
  /** Passing its health checks. */
  up: boolean;
  admin: LbAdminState;
  /** When it last came (back) into service, epoch ms: the start of its slow start. 0: long ago. */
  upSince: number;
}

/** A backend's weight `now`: it ramps from 5% to full over `slowStartMs` after it came back at `upSince`. */
export function slowStartWeight(weight: number, upSince: number, now: number, slowStartMs: number): number {
  const elapsed = now - upSince;
  return upSince === 0 || slowStartMs === 0 || elapsed >= slowStartMs ? weight : weight * Math.max(0.05, elapsed / slowStartMs);
}

/** Why a request waiting for a backend's response head is sent to another backend instead (see `Awaiting`). */
export type MoveCause = 'down' | 'slow';

/**
 * A request sent to a backend that has not had the response head yet and may still go to another
 * backend (idempotent, no body): `down` when its backend is taken out, `slow` when it has waited
 * `timeouts.firstByteMs`.
 */
export interface Awaiting {
  /** performance.now() when it was sent to this backend. */
  readonly sentAt: number;
  /** The backend it waits on now. */
  readonly backend: object | null;
  /**
   * Goes to another backend if it may and there is one; false: it stays where it is. `charge`
   * (slow only): the backend left is charged a passive failure for it.
   */
  move(cause: MoveCause, charge?: boolean): boolean;
}

/** Something a backend's connections can be closed through (the pool of idle keep-alive connections). */
export interface Closable {
  destroy(): void;
}

/** How a data plane reaches a backend: a local one plainly, a backup (another node's lb) as a peer. */
export interface ServerLink {
  /** Used only while no local backend is eligible. */
  backup: boolean;
  /** This node's name (`x-vita-node` on local answers, `x-vita-forwarded-by` towards backups). */
  node: string;
  /** Roots an https backup's certificate is verified against; undefined: Node's default. */
  ca?: string[];
}

const LOCAL: ServerLink = { backup: false, node: 'lb' };

/** One backend inside one data plane: routing state, load, idle connections and counters. */
export class Backend<C extends Closable = Closable> {
  readonly host: string;
  readonly port: number;
  /** Eligible for new requests: up, and ready (not draining, not in maintenance). */
  eligible = true;
  route: RouteState;
  /** Smooth weighted round-robin's running score. */
  current = 0;
  /** Consecutive failed requests (passive check). */
  failures = 0;
  /** Removed by a reload: finishes what it has, pools nothing. */
  retired = false;
  /** Idle keep-alive connections, most recently used last; `idleSince` holds when each was parked. */
  readonly idle: C[] = [];
  readonly idleSince: number[] = [];
  /** Requests waiting for their response head that could be sent elsewhere, oldest first. */
  readonly awaiting = new Set<Awaiting>();
  readonly counters = newBackendCounters();

  /** Reached over TLS (an https backup). */
  readonly secure: boolean;

  constructor(
    public config: BackendConfig,
    /** This data plane's share of the backend's maxconn. */
    public maxconn: number,
    public link: ServerLink = LOCAL,
  ) {
    const url = new URL(config.url);
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(url.port);
    this.secure = url.protocol === 'https:';
    // A backup takes nothing until the control plane says its checks passed.
    this.route = { name: config.name, up: !link.backup, admin: 'ready', upSince: 0 };
    this.eligible = !link.backup;
  }

  get backup(): boolean {
    return this.link.backup;
  }

  /** A new connection; a secure one verifies the certificate against `link.ca` and the URL's host name. */
  connect(): Socket {
    const { host, port } = this;
    if (!this.secure) return connectTcp({ host, port, noDelay: true });
    return connectTls({ host, port, ca: this.link.ca, servername: isIP(host) === 0 ? host : undefined, ALPNProtocols: ['http/1.1'] }).setNoDelay(true);
  }

  /** The event after which the connection carries HTTP: the TLS handshake's end for a secure one. */
  get readyEvent(): 'connect' | 'secureConnect' {
    return this.secure ? 'secureConnect' : 'connect';
  }

  /** The request head as this backend gets it: a backup learns which node's lb sent it. */
  requestHead(head: string): string {
    return this.link.backup ? forwardedHead(head, this.link.node) : head;
  }

  /** The response headers as the client gets them: a local answer names this node, a backup's keeps the node that answered. */
  responseHeaders(raw: string[]): string[] {
    return this.link.backup ? raw : ownNode(raw, this.link.node);
  }

  get name(): string {
    return this.config.name;
  }

  /** Requests in flight. */
  get active(): number {
    return this.counters.active;
  }

  /** A reload changed its weight or maxconn (same URL: pool and counters carry on). */
  reconfigure(config: BackendConfig, maxconn: number, link: ServerLink = this.link): void {
    this.config = config;
    this.maxconn = maxconn;
    this.link = link;
  }

  /** Follows the control plane's decision; true when it takes the backend down (it was up). */
  setRoute(route: RouteState): boolean {
    const wasUp = this.route.up;
    if (route.up && !wasUp) this.failures = 0;
    this.route = route;
    this.eligible = route.up && route.admin === 'ready' && !this.retired;
    return wasUp && !route.up;
  }

  weightAt(now: number, slowStartMs: number): number {
    return slowStartWeight(this.config.weight, this.route.upSince, now, slowStartMs);
  }

  /** Parks an idle connection; false when the pool is full (the caller closes it). */
  park(connection: C, now: number, maxIdle: number): boolean {
    if (this.retired || this.idle.length >= maxIdle) return false;
    this.idle.push(connection);
    this.idleSince.push(now);
    return true;
  }

  /** The most recently parked idle connection, if any. */
  unpark(): C | undefined {
    this.idleSince.pop();
    return this.idle.pop();
  }

  /** Forgets an idle connection that closed by itself. */
  forget(connection: C): void {
    const i = this.idle.indexOf(connection);
    if (i < 0) return;
    this.idle.splice(i, 1);
    this.idleSince.splice(i, 1);
  }

  /** Closes connections idle since before `cutoff` (the oldest are at the front). */
  closeIdleBefore(cutoff: number): void {
    let n = 0;
    while (n < this.idle.length && this.idleSince[n] < cutoff) n++;
    if (n === 0) return;
    const old = this.idle.splice(0, n);
    this.idleSince.splice(0, n);
    for (const c of old) c.destroy();
  }

  retire(): void {
    this.retired = true;
    this.eligible = false;
    this.closeIdleBefore(Infinity);
  }
}
