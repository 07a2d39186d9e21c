import { parseArgs } from 'node:util';
import type { DnsStatus, DrainAnswer } from '../controller/engine';
import type { DnsAuditRecord } from '../drain/audit';

export const USAGE = `usage: dns <command> [options]

  status [--json]                 every node: published or not, why, each vantage point's judgement; each provider
  drain <node> --reason "…"       withdraw the node from DNS now; says when it is safe to work on it
  undrain <node> --reason "…"     let it back in (as soon as its probes say it is up)
  audit                           the last drains and undrains (newest first)

  DNS_URL          the controller's address (default http://127.0.0.1:3300)
  DNS_ADMIN_TOKEN  the admin token (drain, undrain)

exit status: 0 done (status: every node published), 1 refused or failed, 2 status: a node is withdrawn or a provider failing`;

export interface CliIo {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
}

class CliError extends Error {}

/** Pure: text from the controller made safe for a terminal (control characters, escape sequences shown as `?`). */
// eslint-disable-next-line no-control-regex
export const printable = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');

const auditLine = (a: DnsAuditRecord): string => `${a.at} ${a.action} ${a.node} on ${a.by}: ${a.outcome} — ${a.message} (reason: ${a.reason})`;

/** Pure: the status as lines for a terminal. */
export function statusLines(s: DnsStatus): string[] {
  const lines = [`${s.name} from ${s.vantage}: ${s.vantages.heard.length} of ${s.vantages.configured} vantage points heard${s.quorum ? '' : ' (no quorum: DNS is left as it is)'}`];
  for (const e of s.endpoints) lines.push(`${e.node.padEnd(12)} ${e.address.padEnd(24)} ${(e.published ? 'published' : 'withdrawn').padEnd(10)} ${e.verdict}: ${e.reason}`);
  for (const p of s.providers) lines.push(`provider ${p.provider.padEnd(10)} ${p.state}${p.lastError ? ` — ${p.lastError.kind}: ${p.lastError.message}` : ''}`);
  for (const p of s.peers) lines.push(`peer ${p.url} ${p.vantage ?? '?'}: ${p.ok ? 'answering' : p.error}`);
  return lines;
}

/** The CLI front of the controller's HTTP API; returns the exit status. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean' }, reason: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 1;
  }
  const { values: o, positionals: [command, node] } = parsed;
  if (o.help || !command) {
    (o.help ? io.out : io.err)(USAGE);
    return o.help ? 0 : 1;
  }
  const base = (io.env['DNS_URL'] ?? 'http://127.0.0.1:3300').replace(/\/+$/, '');
  const call = async <T>(path: string, body?: unknown): Promise<T> => {
    const token = io.env['DNS_ADMIN_TOKEN'];
    const res = await fetch(`${base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(120_000),
    }).catch((err: Error) => {
      throw new CliError(`cannot reach the dns controller at ${base}: ${err.message}`);
    });
    const data = (await res.json().catch(() => ({}))) as T & { message?: string | string[] };
    if (res.ok) return data;
    throw new CliError(`the dns controller answered ${res.status}: ${Array.isArray(data.message) ? data.message.join('; ') : (data.message ?? res.statusText)}`);
  };
  try {
    if (command === 'status') {
      const s = await call<DnsStatus>('/api/v1/status');
      if (o.json) io.out(JSON.stringify(s, null, 2));
      else statusLines(s).forEach((l) => io.out(printable(l)));
      return s.endpoints.every((e) => e.published) && s.providers.every((p) => p.state === 'ok') ? 0 : 2;
    }
    if (command === 'audit') {
      (await call<DnsAuditRecord[]>('/api/v1/audit')).forEach((a) => io.out(printable(auditLine(a))));
      return 0;
    }
    if (command === 'drain' || command === 'undrain') {
      if (!node) throw new CliError(`${command} needs a node name\n\n${USAGE}`);
      if (!o.reason?.trim()) throw new CliError(`${command} needs --reason "…" (it goes to the audit log)`);
      const a = await call<DrainAnswer>(`/api/v1/nodes/${encodeURIComponent(node)}/${command}`, { reason: o.reason });
      io.out(printable(auditLine(a.record)));
      for (const p of a.published) io.out(printable(`  ${p.provider}: ${p.ok ? 'published' : `not yet: ${p.error}`}`));
      return a.published.every((p) => p.ok) ? 0 : 1;
    }
    throw new CliError(`unknown command "${command}"\n\n${USAGE}`);
  } catch (err) {
    io.err(printable(err instanceof CliError ? err.message : `dns: ${(err as Error).message}`));
    return 1;
  }
}
