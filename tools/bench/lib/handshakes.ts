import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { percentile } from './stats';
import { requireLoopback, type LoadOptions, type LoadResult } from './wrk';

/*
 * New HTTPS connections per second, each a full TLS handshake and one request (`Connection: close`).
 * wrk cannot measure this: it keeps each connection's TLS session for the next one (SSL_clear), so
 * about half of its "new" connections resume. The client here (handshake-client.ts) offers no
 * session at all, and every run checks that none was resumed.
 */

/**
 * The key exchange groups the clients offer, in order: classic ones, as an OpenSSL 3.0 client
 * (wrk's) offers them. Node 22 and later (OpenSSL 3.5) would offer X25519MLKEM768 first, which lb
 * on such a Node takes and HAProxy's OpenSSL 3.0 does not know: both must do the same work.
 */
export const CLIENT_GROUPS = 'X25519:P-256:P-384';

/** What the client's processes send: connection options and the load. */
export interface HandshakeClientOptions {
  host: string;
  port: number;
  path: string;
  /** SNI name and Host header; the certificate must be valid for it. */
  servername: string;
  /** PEM file the server's certificate is verified against (as a browser would). */
  ca: string;
  /** Connections in flight at once (over all processes). */
  connections: number;
  seconds: number;
  /** Client processes (TLS handshakes are CPU work on the client side too). */
  processes: number;
}

/** One client process's tally. */
export interface ClientRun {
  /** Connections that completed the handshake and got a 200 before the server closed. */
  done: number;
  /** Handshakes that resumed a session (must be 0). */
  resumed: number;
  /** Connections that failed: handshake, status other than 200, timeout. */
  failed: number;
  /** From the first connection to the last one's end. */
  elapsedMs: number;
  /** Each completed connection, from connect() to the server closing it. */
  latenciesMs: number[];
}

export interface HandshakeResult extends LoadResult {
  resumed: number;
}

/** The processes' tallies as one result: connections per second over the longest run, latency percentiles over all. */
export function mergeRuns(runs: ClientRun[]): HandshakeResult {
  const sum = (pick: (r: ClientRun) => number) => runs.reduce((s, r) => s + pick(r), 0);
  const done = sum((r) => r.done);
  const failed = sum((r) => r.failed);
  if (done === 0) throw new Error(`no connection completed (${failed} failed)`);
  const elapsedMs = Math.max(...runs.map((r) => r.elapsedMs));
  const sorted = runs.flatMap((r) => r.latenciesMs).sort((a, b) => a - b);
  return { requestsPerSecond: done / (elapsedMs / 1000), p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), errors: failed, resumed: sum((r) => r.resumed) };
}

/** How `connections` are shared out over `processes` (the first ones take the remainder). */
export const shares = (connections: number, processes: number): number[] =>
  Array.from({ length: processes }, (_, i) => Math.floor(connections / processes) + (i < connections % processes ? 1 : 0)).filter((n) => n > 0);

export interface HandshakeOptions extends LoadOptions {
  servername: string;
  ca: string;
  processes?: number;
}

/** One run of full handshakes against a loopback https URL; throws if any handshake resumed a session. */
export function runHandshakes(url: string, o: HandshakeOptions): HandshakeResult {
  requireLoopback(url);
  const target = new URL(url);
  const seconds = o.seconds ?? 10;
  const options: HandshakeClientOptions = {
    host: target.hostname.replace(/^\[|\]$/g, ''),
    port: Number(target.port || 443),
    path: target.pathname,
    servername: o.servername,
    ca: o.ca,
    connections: o.connections ?? 16,
    seconds,
    processes: o.processes ?? 2,
  };
  const register = join(__dirname, '..', '..', 'register.js');
  const out = execFileSync(process.execPath, ['-r', register, join(__dirname, 'handshake-client.ts'), JSON.stringify(options)], { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const result = mergeRuns(JSON.parse(out) as ClientRun[]);
  if (result.resumed > 0) throw new Error(`${result.resumed} handshakes resumed a session: the run did not measure full handshakes`);
  return result;
}
