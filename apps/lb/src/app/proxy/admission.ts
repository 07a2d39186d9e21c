import { readFileSync } from 'node:fs';
import { isIPv6, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { lingeringClose } from './client-connection';
import { rawResponse } from './raw-responses';

/*
 * Which client connections a data plane takes: caps on all of them, on those from one address and on
 * idle ones, kept below what the process's file descriptors allow. The decisions are pure functions;
 * Admission keeps the counts and logs a summary at most once per interval.
 */

/** The limits that can refuse a new connection (the names of their settings in `limits`). */
export type Refusal = 'maxConnections' | 'maxConnectionsPerAddress';

export interface AdmissionLimits {
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxIdleConnections: number;
}

/**
 * The key a client is counted under: its IPv4 address, or the /64 its IPv6 address is in (one
 * subscriber usually gets a whole /64, so counting single IPv6 addresses would limit nothing).
 */
export function addressKey(address: string): string {
  if (!isIPv6(address)) return address;
  const [head, tail = ''] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  // A dotted IPv4 tail (::ffff:1.2.3.4 and the like) counts as two groups.
  const groups = [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length - (right.at(-1)?.includes('.') ? 1 : 0))).fill('0'), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/** Whether a new connection may be taken: null, or the limit it would exceed. Trusted proxies (`exempt`) carry many clients: only the total counts for them. */
export function admit(limits: AdmissionLimits, open: number, fromAddress: number, exempt: boolean): Refusal | null {
  if (open >= limits.maxConnections) return 'maxConnections';
  if (!exempt && fromAddress >= limits.maxConnectionsPerAddress) return 'maxConnectionsPerAddress';
  return null;
}

/** Descriptors a data-plane process needs besides its client and backend connections (Node, logs, IPC, the admin plane's connections). */
export const BASE_DESCRIPTORS = 256;

/**
 * How many client connections fit in `openFiles` descriptors: each may need a backend connection
 * as well (at most the backends' maxconn together), and the backends' idle pools stay open too.
 * Null when there is no limit to respect.
 */
export function descriptorBudget(openFiles: number | null, backends: { maxconn: number }[], maxIdlePerBackend: number): number | null {
  if (openFiles === null) return null;
  const free = openFiles - BASE_DESCRIPTORS - backends.length * maxIdlePerBackend;
  const upstream = backends.reduce((sum, b) => sum + b.maxconn, 0);
  // Up to `upstream` clients, each with a backend connection; beyond, one descriptor each.
  const clients = free >= 2 * upstream ? free - upstream : Math.floor(free / 2);
  return Math.max(1, clients);
}

/** The soft limit on open files of this process (Node raises it to the hard limit at start), or null where unknown. */
export function openFilesLimit(limits = '/proc/self/limits'): number | null {
  try {
    const line = readFileSync(limits, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft === undefined || soft === 'unlimited' || !/^\d+$/.test(soft) ? null : Number(soft);
  } catch {
    return null;
  }
}

/** What can be closed to make room: an open connection, and whether (and since when) it is idle. */
export interface Closable {
  readonly idle: boolean;
  /** Since when it has had nothing to do (0: busy). */
  readonly idleSince: number;
}

/** The idle connections, longest-idle first. */
export function idleByAge<C extends Closable>(connections: Iterable<C>): C[] {
  const idle: C[] = [];
  for (const c of connections) if (c.idle && c.idleSince !== 0) idle.push(c);
  return idle.sort((a, b) => a.idleSince - b.idleSince);
}

/** The idle connections past `keep`, longest-idle first: the ones to close. */
export function excessIdle<C extends Closable>(connections: Iterable<C>, keep: number): C[] {
  const idle = idleByAge(connections);
  return idle.length <= keep ? [] : idle.slice(0, idle.length - keep);
}

/** Out of descriptors: the longest-idle tenth of the idle connections (at least 16) make room. */
export function idleToFree<C extends Closable>(connections: Iterable<C>): C[] {
  const idle = idleByAge(connections);
  return idle.slice(0, Math.max(16, Math.ceil(idle.length / 10)));
}

/** Counts of what admission did, as the data plane's counters show them. */
export interface AdmissionCounters {
  connectionsRefused: Record<Refusal, number>;
  /** Idle connections closed to stay within `maxIdleConnections` or to free descriptors. */
  idleClosed: number;
  /** Errors of the listening socket (e.g. out of descriptors): accepting goes on. */
  acceptErrors: number;
}

export const newAdmissionCounters = (): AdmissionCounters => ({ connectionsRefused: { maxConnections: 0, maxConnectionsPerAddress: 0 }, idleClosed: 0, acceptErrors: 0 });

/** Addresses named in one summary line, the most refused first. */
const TOP_ADDRESSES = 5;
/** Distinct addresses tracked for a summary (a flood from many addresses costs no more). */
const MAX_TRACKED = 1024;

/**
 * Logs what happened at most once per `intervalMs`: the first event at once, later ones as one
 * summary at the end of the interval they fell in.
 */
export class Summary {
  private counts: Record<string, number> = {};
  private addresses = new Map<string, number>();
  private lastAt = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly log: Logger,
    private readonly message: string,
    private readonly intervalMs = 10_000,
  ) {}

  note(kind: string, address?: string, count = 1): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + count;
    if (address !== undefined && (this.addresses.has(address) || this.addresses.size < MAX_TRACKED)) this.addresses.set(address, (this.addresses.get(address) ?? 0) + count);
    if (this.timer !== null) return;
    const wait = this.lastAt + this.intervalMs - Date.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait).unref();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private flush(): void {
    this.timer = null;
    this.lastAt = Date.now();
    const addresses = [...this.addresses].sort((a, b) => b[1] - a[1]).slice(0, TOP_ADDRESSES).map(([address, count]) => ({ address, count }));
    this.log.warn({ counts: this.counts, ...(addresses.length > 0 ? { addresses } : {}), intervalMs: this.intervalMs }, this.message);
    this.counts = {};
    this.addresses = new Map();
  }
}

/** What a refused connection gets before it is closed (it has sent nothing yet, or lb has read nothing of it). */
export const TOO_MANY_CONNECTIONS = () => rawResponse('503 Service Unavailable', 'too many connections: retry shortly\n');

/** How long a refused connection may linger for its 503 to be read (then it is closed whatever the client does). */
const REFUSED_LINGER_MS = 100;

/** A refused connection: a 503, then closed once the client has had REFUSED_LINGER_MS to read it (see lingeringClose). */
export function refuseConnection(socket: Socket): void {
  lingeringClose(socket, TOO_MANY_CONNECTIONS(), () => socket.resume(), REFUSED_LINGER_MS);
}

/** Descriptors run out (on accept or elsewhere): Node's own error codes. */
export const OUT_OF_DESCRIPTORS: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE']);

/**
 * A data plane's admission of client connections: the counts per address, the limits in force
 * (`maxConnections` lowered to the descriptor budget), the counters, the rate-limited log.
 */
export class Admission {
  limits: AdmissionLimits;
  /** The configured maxConnections, when the descriptor budget lowered it. */
  lowered: number | null = null;
  open = 0;
  private readonly perAddress = new Map<string, number>();
  private readonly summary: Summary;

  constructor(
    limits: AdmissionLimits,
    private readonly counters: AdmissionCounters,
    log: Logger,
    intervalMs = 10_000,
  ) {
    this.limits = limits;
    this.summary = new Summary(log, 'client connections refused or closed by lb’s limits', intervalMs);
  }

  /** New limits (start, reload), maxConnections kept within `budget` descriptors. */
  configure(limits: AdmissionLimits, budget: number | null): void {
    this.lowered = budget !== null && budget < limits.maxConnections ? limits.maxConnections : null;
    this.limits = { ...limits, maxConnections: this.lowered === null ? limits.maxConnections : (budget as number) };
  }

  /** Takes a new connection from `address` (true), or counts and logs its refusal (false). */
  take(address: string, exempt: boolean): boolean {
    const key = addressKey(address);
    const fromAddress = this.perAddress.get(key) ?? 0;
    const refusal = admit(this.limits, this.open, fromAddress, exempt);
    if (refusal !== null) {
      this.counters.connectionsRefused[refusal]++;
      this.summary.note(refusal, key);
      return false;
    }
    this.open++;
    this.perAddress.set(key, fromAddress + 1);
    return true;
  }

  /** A connection that was taken has closed. */
  release(address: string): void {
    const key = addressKey(address);
    const n = this.perAddress.get(key) ?? 0;
    this.open--;
    if (n <= 1) this.perAddress.delete(key);
    else this.perAddress.set(key, n - 1);
  }

  /** Idle connections closed by the idle cap or to free descriptors. */
  closedIdle(count: number, why: 'maxIdleConnections' | 'descriptors'): void {
    if (count === 0) return;
    this.counters.idleClosed += count;
    this.summary.note(`idleClosed.${why}`, undefined, count);
  }

  /** The listening socket reported an error; accepting goes on. */
  acceptError(code: string): void {
    this.counters.acceptErrors++;
    this.summary.note(`acceptError.${code}`);
  }

  stop(): void {
    this.summary.stop();
  }
}
