import * as acme from 'acme-client';
import { Agent, request } from 'node:https';
import { rootCertificates } from 'node:tls';

/**
 * acme-client sends every request through one shared axios instance. One request interceptor,
 * installed once, gives the requests for a registered ACME origin that manager's HTTPS agent (extra
 * root for pebble or a private CA), its per-call timeout, and switches off acme-client's own retry
 * loop (sleeps of 5–25 s that cannot be cancelled): AcmeManager owns retries, with bounded backoff.
 */
interface Route {
  agent: Agent;
  timeoutMs: number;
}

const routes = new Map<string, Route>();
let installed = false;

/** Marks a request as having used up acme-client's retries, so its interceptor rejects at once. */
const NO_INTERNAL_RETRY = Number.MAX_SAFE_INTEGER - 1;

export function registerAcmeOrigin(directoryUrl: string, options: { ca?: string; timeoutMs: number }): void {
  const origin = new URL(directoryUrl).origin;
  const agent = new Agent({ keepAlive: false, ca: options.ca ? [...rootCertificates, options.ca] : undefined });
  routes.set(origin, { agent, timeoutMs: options.timeoutMs });
  if (installed) return;
  installed = true;
  acme.axios.interceptors.request.use((config) => {
    let origin: string | undefined;
    try {
      origin = config.url ? new URL(config.url).origin : undefined;
    } catch {
      origin = undefined;
    }
    const route = origin ? routes.get(origin) : undefined;
    if (route) {
      config.httpsAgent = route.agent;
      config.timeout = route.timeoutMs;
      // A socket timeout only counts idle time (and fires late while a TLS handshake hangs): bound the whole request.
      config.signal ??= AbortSignal.timeout(route.timeoutMs);
      (config as { retryAttempt?: number }).retryAttempt = NO_INTERNAL_RETRY;
    }
    return config;
  });
}

/**
 * GETs the directory with the same agent and timeout before an order, so an unreachable or broken
 * server gives a clear error (acme-client's interceptor turns network errors into a TypeError).
 */
export function probeDirectory(directoryUrl: string): Promise<void> {
  const route = routes.get(new URL(directoryUrl).origin);
  const host = new URL(directoryUrl).host;
  return new Promise((resolve, reject) => {
    const timeoutMs = route?.timeoutMs ?? 30_000;
    const signal = AbortSignal.timeout(timeoutMs);
    const req = request(directoryUrl, { agent: route?.agent, signal, headers: { accept: 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < 65_536) body += d;
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`ACME server ${host}: directory answered HTTP ${res.statusCode}`));
        try {
          const dir = JSON.parse(body) as { newOrder?: unknown };
          if (typeof dir.newOrder !== 'string') return reject(new Error(`ACME server ${host}: the directory has no newOrder`));
        } catch {
          return reject(new Error(`ACME server ${host}: the directory is not JSON`));
        }
        resolve();
      });
      res.on('error', (e) => failed(e));
    });
    const failed = (e: Error) => reject(networkError(host, signal.aborted ? Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }) : e));
    req.on('error', failed);
    req.end();
  });
}

function networkError(host: string, e: Error): Error {
  const code = (e as NodeJS.ErrnoException).code;
  return new Error(`ACME server ${host} unreachable: ${code ?? 'error'} (${e.message})`);
}
