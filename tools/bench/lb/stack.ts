import { freePort } from '@vita/testing';
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { processTree, sleep, startScript, waitUntil } from '../lib/processes';
import type { Comparison } from '../lib/wrk';

/*
 * What both lb benchmarks run: two Node backends, HAProxy and lb in front of them with the same job
 * (round-robin, HTTP health checks, keep-alive both sides, X-Forwarded-* and a request id added),
 * HAProxy with as many threads as lb has workers; over plain HTTP or, given a certificate, HTTPS.
 */

/** The certificate both proxies serve (ECDSA P-256), and what a client needs to verify it. */
export interface TlsFiles {
  cert: string;
  key: string;
  /** The certificate, then its key: the one file HAProxy's `crt` reads. */
  combined: string;
  /** The CA that issued it. */
  ca: string;
  /** A name it is valid for (SNI and Host). */
  servername: string;
}

/**
 * Mozilla's "intermediate" TLS 1.2 suites, as lb's listener has them (apps/lb/src/app/https/certificates.ts;
 * an app's code is not imported here): the run checks both proxies negotiate the same suites.
 */
export const INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/**
 * HAProxy's configuration. With `tls` (the combined PEM file) the frontend terminates TLS as lb does:
 * TLS 1.2 and 1.3, the intermediate suites, the client's preference (lb's honorCipherOrder: false),
 * ALPN http/1.1, session tickets on (OpenSSL's defaults for TLS 1.3 suites and groups, as Node's).
 */
export function haproxyConfig(threads: number, port: number, backends: number[], tls?: string): string {
  const tlsGlobals = tls === undefined ? '' : `  ssl-default-bind-ciphers ${INTERMEDIATE_CIPHERS}\n  ssl-default-bind-options prefer-client-ciphers ssl-min-ver TLSv1.2\n`;
  return `global
  nbthread ${threads}
  maxconn 4096
${tlsGlobals}defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 5s
  option http-keep-alive
  retries 3
  option redispatch
frontend fe
  bind 127.0.0.1:${port}${tls === undefined ? '' : ` ssl crt ${tls} alpn http/1.1`}
  option forwardfor
  unique-id-format %{+X}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid
  http-request set-header X-Forwarded-Proto ${tls === undefined ? 'http' : 'https'}
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  http-request set-header X-Request-Id %[unique-id]
  http-response set-header X-Request-Id %[unique-id]
  default_backend be
backend be
  balance roundrobin
  option httpchk GET /health/ready
  http-check expect status 200
  default-server check inter 1s fall 2 rise 2 maxconn 256
${backends.map((p, i) => `  server b${i + 1} 127.0.0.1:${p}`).join('\n')}
`;
}

export interface LbPorts {
  listen: number;
  admin: number;
  /** https.listen, with a certificate. */
  https?: number;
}

/** lb's configuration for the same job; with `tls`, an HTTPS listener beside the plain one (which does not redirect). */
export function lbConfig(workers: number, ports: LbPorts, backends: number[], accessLog: string, tls?: TlsFiles): object {
  return {
    listen: `127.0.0.1:${ports.listen}`,
    admin: { listen: `127.0.0.1:${ports.admin}` },
    workers,
    logLevel: 'warn',
    accessLog: { to: accessLog },
    backends: backends.map((p, i) => ({ name: `b${i + 1}`, url: `http://127.0.0.1:${p}` })),
    ...(tls === undefined || ports.https === undefined ? {} : { https: { listen: `127.0.0.1:${ports.https}`, certificates: [{ cert: tls.cert, key: tls.key }], redirectHttp: false, pollMs: 0 } }),
  };
}

/** Whether a GET of `url` answers 200 (https verified against `tls.ca`, for `tls.servername`). */
function answers200(url: string, tls?: TlsFiles): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (res: { statusCode?: number; resume(): void }) => (res.resume(), resolve(res.statusCode === 200));
    const req = url.startsWith('https:') && tls !== undefined ? httpsGet(url, { ca: readFileSync(tls.ca), servername: tls.servername }, done) : httpGet(url, done);
    req.setTimeout(2000, () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

export interface StackOptions {
  workers: number;
  /** A file for lb's access log, or `off`. */
  accessLog: string;
  /** Where lb's processes write CPU profiles (--cpu-prof), if anywhere. */
  profileDir?: string;
  tls?: TlsFiles;
}

export interface Proxy {
  /** Where clients go: https with a certificate, else http. */
  url: string;
  pids: number[];
}

export interface Stack {
  backends: ChildProcess[];
  /** One backend's own URL (plain HTTP). */
  direct: string;
  haproxy: Proxy;
  lb: Proxy & { process: ChildProcess };
  stop(): Promise<void>;
}

/** Starts the backends, HAProxy and the built lb (dist/apps/lb) on free loopback ports; files go in `home`. */
export async function startStack(root: string, home: string, o: StackOptions): Promise<Stack> {
  const [b1, b2, haproxyPort, lbPort, adminPort, httpsPort] = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const child of children) child.kill('SIGTERM');
    await sleep(500);
  };
  try {
    const backends = [b1, b2];
    for (const port of backends) children.push(await startScript(root, 'tools/bench/lb/backend.ts', [String(port)]));
    const scheme = o.tls === undefined ? 'http' : 'https';

    writeFileSync(join(home, 'haproxy.cfg'), haproxyConfig(o.workers, haproxyPort, backends, o.tls?.combined));
    const haproxy = spawn('haproxy', ['-db', '-f', join(home, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(haproxy);
    const haproxyUrl = `${scheme}://127.0.0.1:${haproxyPort}/`;
    await waitUntil('HAProxy did not serve', () => answers200(haproxyUrl, o.tls));

    writeFileSync(join(home, 'lb.json'), JSON.stringify(lbConfig(o.workers, { listen: lbPort, admin: adminPort, https: httpsPort }, backends, o.accessLog, o.tls)));
    const nodeArgs = o.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`];
    const lb = spawn(process.execPath, [...nodeArgs, join(root, 'dist', 'apps', 'lb', 'main.js')], { env: { PATH: process.env['PATH'], LB_CONFIG: join(home, 'lb.json') }, stdio: ['ignore', 'ignore', 'inherit'] });
    children.push(lb);
    const lbUrl = `${scheme}://127.0.0.1:${o.tls === undefined ? lbPort : httpsPort}/`;
    await waitUntil('lb did not become ready', () => answers200(`http://127.0.0.1:${adminPort}/health/ready`));
    await waitUntil('lb did not serve', () => answers200(lbUrl, o.tls));
    return {
      backends: children.slice(0, 2),
      direct: `http://127.0.0.1:${b1}/`,
      haproxy: { url: haproxyUrl, pids: [haproxy.pid as number] },
      lb: { url: lbUrl, pids: processTree(lb.pid), process: lb },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;

/** lb against HAProxy (the first two contenders of a comparison): the ratio of the medians, and in each round. */
export function lbToHaproxy(c: Comparison): { rps: number; p99: number; eachRound: string } {
  const [h, l] = c.medians;
  // How much the ratio moves from round to round (lb against the HAProxy run just before it): on a
  // machine shared with other work, a spread this wide says the run cannot tell a few percent apart.
  const eachRound = c.rounds.map(([hr, lr]) => `${pct(lr.requestsPerSecond / hr.requestsPerSecond)} (p99 ${(lr.p99Ms / hr.p99Ms).toFixed(2)}×)`).join(', ');
  return { rps: l.requestsPerSecond / h.requestsPerSecond, p99: l.p99Ms / h.p99Ms, eachRound };
}
