import { initCa, issueHostCert } from '@vita/sites';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import { CLIENT_GROUPS, runHandshakes } from '../lib/handshakes';
import { cpuPerOperation, formatCpu, type CpuTime } from '../lib/processes';
import { compareRounds, runWrk, type Contender, type LoadOptions } from '../lib/wrk';
import { lbToHaproxy, pct, type Stack, type TlsFiles } from './stack';

/** The issue's targets: keep-alive requests/s and full handshakes/s, each as a share of HAProxy's. */
export const KEEP_ALIVE_TARGET = 0.75;
export const HANDSHAKE_TARGET = 0.6;

/** A CA and a server certificate for localhost and 127.0.0.1, both ECDSA P-256 (the sites CA code), in `dir`. */
export async function makeCertificate(dir: string): Promise<TlsFiles> {
  const ca = await initCa({ dir, name: 'Vita bench CA', days: 2 });
  const host = await issueHostCert({ dir, name: 'localhost', ips: ['127.0.0.1'], dns: ['localhost'], days: 2 });
  const combined = join(dir, 'haproxy.pem');
  writeFileSync(combined, readFileSync(host.crt, 'utf8') + readFileSync(host.key, 'utf8'), { mode: 0o600 });
  return { cert: host.crt, key: host.key, combined, ca: ca.crt, servername: 'localhost' };
}

/** What a handshake with a proxy settled on: protocol, suite, key exchange group, certificate key. */
function negotiated(url: string, tls: TlsFiles, extra: ConnectionOptions = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), servername: tls.servername, ca: readFileSync(tls.ca), ALPNProtocols: ['http/1.1'], ecdhCurve: CLIENT_GROUPS, ...extra }, () => {
      const cert = socket.getPeerX509Certificate();
      const key = cert?.publicKey.asymmetricKeyDetails?.namedCurve ?? cert?.publicKey.asymmetricKeyType;
      const group = socket.getEphemeralKeyInfo();
      resolve(`${socket.getProtocol()} ${socket.getCipher().standardName} ${group !== null && 'name' in group ? group.name : '?'}, ${key} certificate, ALPN ${socket.alpnProtocol}`);
      socket.end();
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('handshake timed out')));
    socket.once('error', reject);
  });
}

/** Checks that both proxies negotiate the same TLS 1.3 and TLS 1.2 parameters with the benchmark's clients (the premise of the comparison); returns them. */
async function sameTls(stack: Stack, tls: TlsFiles): Promise<string[]> {
  const lines: string[] = [];
  for (const [label, extra] of [['default', {}], ['a TLS 1.2 client', { maxVersion: 'TLSv1.2' }]] as const) {
    const [h, l] = await Promise.all([negotiated(stack.haproxy.url, tls, extra), negotiated(stack.lb.url, tls, extra)]);
    if (h !== l) throw new Error(`HAProxy and lb negotiate differently (${label}): HAProxy ${h}; lb ${l}`);
    lines.push(`${label}: ${h}`);
  }
  return lines;
}

export interface TlsBenchOptions {
  rounds: number;
  seconds: number;
  /** wrk's keep-alive connections. */
  connections: number;
  /** Connections in flight for the handshake rounds, and the client processes making them. */
  handshakeConnections: number;
  clients: number;
  workers: number;
}

/**
 * HTTPS through both proxies: keep-alive requests/s (wrk over TLS, 64 connections), then new
 * connections/s, each a full handshake and one GET (handshakes.ts); interleaved rounds, medians, the
 * CPU time each proxy spends per request and per handshake, and the verdict against the targets.
 */
export async function benchTls(stack: Stack, tls: TlsFiles, o: TlsBenchOptions): Promise<void> {
  const contenders: Contender[] = [
    { name: `HAProxy (${o.workers} thread${o.workers > 1 ? 's' : ''})`, url: stack.haproxy.url },
    { name: `lb (${o.workers} worker${o.workers > 1 ? 's' : ''})`, url: stack.lb.url },
  ];
  const haproxyOpenssl = /Running on OpenSSL version : OpenSSL (\S+)/.exec(spawnSync('haproxy', ['-vv'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';
  console.log(`OpenSSL: HAProxy ${haproxyOpenssl} (the system's), lb ${process.versions.openssl} (Node's own)`);
  console.log('TLS on both (the same certificate and key files, made for this run):');
  for (const line of await sameTls(stack, tls)) console.log(`  ${line}`);

  console.log(`\nkeep-alive: GET 1 KiB over HTTPS, ${o.connections} connections, wrk -t2; ${o.rounds} interleaved rounds of ${o.seconds} s`);
  const keepAlive = compareRounds(contenders, o.rounds, { connections: o.connections, seconds: o.seconds });

  const handshakes = { connections: o.handshakeConnections, seconds: o.seconds };
  const newConnections = (url: string, lo: LoadOptions) => runHandshakes(url, { ...lo, servername: tls.servername, ca: tls.ca, processes: o.clients });
  console.log(
    `\nnew connections: each a full TLS handshake (no session offered; none resumed) and one GET with Connection: close, ` +
      `${o.handshakeConnections} in flight from ${o.clients} client process${o.clients > 1 ? 'es' : ''}; ${o.rounds} interleaved rounds of ${o.seconds} s`,
  );
  const full = compareRounds(contenders, o.rounds, handshakes, { run: newConnections, unit: 'conn/s' });

  // CPU per operation of the proxy processes only: robust to the noise of other load on the machine.
  // lb's primary apart: with workers, it accepts every connection and hands it to one (cluster).
  const cpuSeconds = 5;
  const groups = o.workers > 1 ? [stack.haproxy.pids, stack.lb.pids.slice(0, 1), stack.lb.pids.slice(1)] : [stack.haproxy.pids, stack.lb.pids];
  const perOperation = (what: string, run: (url: string) => number) => {
    const hap = cpuPerOperation(groups.slice(0, 1), () => run(stack.haproxy.url))[0];
    const lbParts = cpuPerOperation(groups.slice(1), () => run(stack.lb.url));
    const lb = lbParts.reduce((sum, c) => ({ user: sum.user + c.user, system: sum.system + c.system }));
    const total = (c: CpuTime) => c.user + c.system;
    const primary = lbParts.length > 1 ? `; of it the primary ${total(lbParts[0]).toFixed(1)} µs` : '';
    console.log(`  ${what}: HAProxy ${formatCpu(hap)}, lb ${formatCpu(lb)}${primary}: lb ${(total(lb) / total(hap)).toFixed(2)}× HAProxy's`);
  };
  console.log('\nCPU per operation (proxy processes only):');
  perOperation('keep-alive request', (url) => runWrk(url, { connections: o.connections, seconds: cpuSeconds }).requestsPerSecond * cpuSeconds);
  perOperation('new connection (full handshake and one request)', (url) => newConnections(url, { ...handshakes, seconds: cpuSeconds }).requestsPerSecond * cpuSeconds);

  const k = lbToHaproxy(keepAlive);
  const h = lbToHaproxy(full);
  const verdict = (ratio: number, target: number) => `${pct(ratio)} (target ≥ ${pct(target)}: ${ratio >= target ? 'met' : 'NOT met'})`;
  console.log(`\nlb / HAProxy in each round: keep-alive ${k.eachRound}; handshakes ${h.eachRound}`);
  console.log(`lb / HAProxy: keep-alive requests/s ${verdict(k.rps, KEEP_ALIVE_TARGET)}, p99 ${k.p99.toFixed(2)}×; full handshakes/s ${verdict(h.rps, HANDSHAKE_TARGET)}, p99 ${h.p99.toFixed(2)}×`);
  const errors = [keepAlive, full].map((c) => `HAProxy ${c.medians[0].errors}, lb ${c.medians[1].errors}`);
  console.log(`(errors: keep-alive ${errors[0]}; handshakes ${errors[1]})`);
}
