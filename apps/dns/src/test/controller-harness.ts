import { freePort } from '@vita/testing';
import type { DnsProvider } from '@vita/dns-providers';
import { loadConfig } from '../app/config/config';
import { createDns, type DnsApp } from '../app/bootstrap';
import type { DnsStatus } from '../app/controller/engine';

export const PEER_TOKEN = 'peer-token-0123456789abcdef';
export const ADMIN_TOKEN = 'admin-token-0123456789abcdef';

/** Fast settings for tests: a round every 200 ms, down after 2, up after 2, no hold. */
export const FAST = {
  DNS_PROBE_INTERVAL_MS: '200',
  DNS_PROBE_TIMEOUT_MS: '150',
  DNS_FALL: '2',
  DNS_RISE: '2',
  DNS_MIN_HOLD_MS: '0',
  DNS_CONVERGE_INTERVAL_MS: '1000',
  LOG_LEVEL: 'silent',
};

export interface RunningController extends DnsApp {
  url: string;
  port: number;
  status(): Promise<DnsStatus>;
  close(): Promise<void>;
}

/** A controller on 127.0.0.1 (a free port unless given), rounds started, with the given providers. */
export async function startController(env: Record<string, string>, providers: DnsProvider[], port?: number): Promise<RunningController> {
  const listen = port ?? (await freePort());
  const config = loadConfig({ HOST: '127.0.0.1', PORT: String(listen), DNS_VANTAGE: 'here', ...FAST, DNS_RFC2136_SERVER: '127.0.0.1:1', DNS_TSIG_KEY_FILE: '/nonexistent', ...env });
  const dns = await createDns(config, providers);
  await dns.app.listen(listen, '127.0.0.1');
  dns.engine.start();
  const url = `http://127.0.0.1:${listen}`;
  return {
    ...dns,
    url,
    port: listen,
    status: async () => (await (await fetch(`${url}/api/v1/status`, { signal: AbortSignal.timeout(5000) })).json()) as DnsStatus,
    close: () => dns.app.close(),
  };
}

/** Polls every 50 ms until `check` returns something; fails after `timeoutMs` naming what it waited for. */
export async function until<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
