import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { etagVersion } from '@vita/contracts';
import type { Endpoint, ProbeResult } from '../model';

export interface ProbeSettings {
  scheme: 'http' | 'https';
  port: number;
  path: string;
  /** The name visitors use: sent as Host (and as the TLS server name). */
  name: string;
  timeoutMs: number;
  /** Roots for https (undefined: Node's). */
  ca: string | undefined;
  /** This vantage point, named to the node in the User-Agent. */
  vantage: string;
}

/** Bodies are read up to this size to see the page end; a larger page is read no further (and still counts). */
const MAX_BODY = 4 * 1024 * 1024;

/** Pure: whether an answer is the résumé page a visitor should get; the reason when it is not. */
export function pageProblem(res: { status: number; contentType: string | undefined; etag: string | undefined; body: string }): string | null {
  if (res.status !== 200) return `status ${res.status}, expected 200`;
  if (!/^text\/html\b/i.test(res.contentType ?? '')) return `content-type ${res.contentType ?? 'missing'}, expected text/html`;
  if (etagVersion(res.etag) === null) return 'no résumé version in its ETag';
  if (!/<\/html>\s*$/i.test(res.body)) return 'the page is cut short';
  return null;
}

/**
 * Loads the page from one endpoint as a visitor would (its address, the public name as Host), on a
 * fresh connection, bounded by `timeoutMs` from the first byte sent to the last byte read.
 */
export function probe(endpoint: Endpoint, s: ProbeSettings): Promise<ProbeResult> {
  const started = performance.now();
  const at = new Date().toISOString();
  const durationMs = () => Math.round((performance.now() - started) * 10) / 10;
  const defaultPort = s.scheme === 'https' ? 443 : 80;
  const options: RequestOptions = {
    host: endpoint.address,
    port: s.port,
    path: s.path,
    agent: false,
    headers: { Host: s.port === defaultPort ? s.name : `${s.name}:${s.port}`, 'User-Agent': `vita-dns-probe (${s.vantage})`, Accept: 'text/html', Connection: 'close' },
  };
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<ProbeResult, 'at' | 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ at, durationMs: durationMs(), ...result });
    };
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY) chunks.push(c);
        size += c.length;
      });
      res.on('error', (err) => finish({ ok: false, status: res.statusCode, error: `the answer broke off (${err.message})` }));
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const etag = res.headers.etag;
        const servedBy = typeof res.headers['x-vita-node'] === 'string' ? res.headers['x-vita-node'] : undefined;
        const body = Buffer.concat(chunks).subarray(-64).toString('latin1');
        const problem = pageProblem({ status, contentType: res.headers['content-type'], etag, body: size > MAX_BODY ? '</html>' : body });
        const version = etagVersion(etag) ?? undefined;
        finish({ ok: problem === null, status, ...(version !== undefined ? { version } : {}), ...(servedBy ? { servedBy } : {}), ...(problem ? { error: problem } : {}) });
      });
    };
    const req =
      s.scheme === 'https'
        ? httpsRequest({ ...options, servername: s.name, ca: s.ca }, onResponse)
        : httpRequest(options, onResponse);
    const timer = setTimeout(() => finish({ ok: false, error: `no complete answer within ${s.timeoutMs} ms` }), s.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ ok: false, error: describe(err) }));
    req.end();
  });
}

function describe(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to the host';
    default:
      return err.code?.startsWith('ERR_TLS') || err.code?.includes('CERT') ? `TLS: ${err.message}` : err.message;
  }
}
