import type { ActionRecordDto, DriftReportDto, ReplicaStatusDto, TopologyDto } from '@vita/contracts';
import { REPLICA_ACTIONS } from '@vita/contracts';
import { parseArgs } from 'node:util';

export const USAGE = `usage: repl-admin <command> [options]

  status [--json]                 every server: state, lag, last error, next step
  show <replica> [--json]         one replica in full
  audit [replica]                 the last actions (newest first)
  drift <replica>                 compare CHECKSUM TABLE of every Vita table with the primary
  restart <replica> --reason "…" [--dry-run]
  repoint <replica> --reason "…" [--host H --port P] [--dry-run]
  read-only <replica> --reason "…" [--dry-run]
  rebuild <replica> --reason "…" [--force] [--dry-run]

  REPL_ADMIN_URL    repl-admin's address (default http://127.0.0.1:3200)
  REPL_ADMIN_TOKEN  the admin token (actions and drift)

exit status: 0 done (status: every replica OK), 1 refused or failed, 2 status: a replica is not OK`;

export interface CliIo {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
}

class CliError extends Error {}

const replicaLine = (r: ReplicaStatusDto): string[] => [
  `${r.name.padEnd(12)} ${r.state.padEnd(13)} lag ${r.heartbeatLagSeconds ?? '?'} s (Seconds_Behind_Master ${r.secondsBehindMaster ?? 'NULL'})  IO ${r.ioThread ?? '-'} SQL ${r.sqlThread ?? '-'}${r.node ? `  node ${r.node}` : ''}`,
  ...(r.error ? [`             error ${r.error.errno}: ${r.error.message}`] : []),
  ...(r.state === 'OK' ? [] : [`             cause: ${r.cause}`, `             next:  ${r.nextStep}`]),
];

const actionLines = (a: ActionRecordDto): string[] => [
  `${a.at} ${a.mode} ${a.action} on ${a.replica}: ${a.outcome} — ${a.message}`,
  ...a.preconditions.filter((p) => !p.ok).map((p) => `  ✗ ${p.check}: ${p.detail}`),
  ...(a.outcome === 'dry-run' || a.outcome === 'refused' ? a.statements.map((s) => `  ${s}`) : []),
];

/** The CLI front of repl-admin's HTTP API; returns the exit status. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        reason: { type: 'string' },
        'dry-run': { type: 'boolean' },
        force: { type: 'boolean' },
        host: { type: 'string' },
        port: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 1;
  }
  const { values: o, positionals: [command, name] } = parsed;
  if (o.help || !command) {
    (o.help ? io.out : io.err)(USAGE);
    return o.help ? 0 : 1;
  }
  const base = (io.env['REPL_ADMIN_URL'] ?? 'http://127.0.0.1:3200').replace(/\/+$/, '');
  const call = async <T>(path: string, body?: unknown): Promise<T> => {
    const token = io.env['REPL_ADMIN_TOKEN'];
    const res = await fetch(`${base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10 * 60_000),
    }).catch((err: Error) => {
      throw new CliError(`cannot reach repl-admin at ${base}: ${err.message}`);
    });
    const data = (await res.json().catch(() => ({}))) as T & { message?: string | string[]; outcome?: string };
    if (res.ok || data.outcome) return data;
    throw new CliError(`repl-admin answered ${res.status}: ${Array.isArray(data.message) ? data.message.join('; ') : (data.message ?? res.statusText)}`);
  };
  const needName = (): string => {
    if (!name) throw new CliError(`${command} needs a replica name\n\n${USAGE}`);
    return encodeURIComponent(name);
  };
  try {
    if (command === 'status') {
      const t = await call<TopologyDto>('/api/v1/topology?fresh=1');
      if (o.json) io.out(JSON.stringify(t, null, 2));
      else {
        io.out(`${t.primary.name.padEnd(12)} ${(t.primary.reachable ? 'PRIMARY' : 'UNREACHABLE').padEnd(13)} ${t.primary.address}  gtid_binlog_pos ${t.primary.gtid.binlog ?? '?'}`);
        t.replicas.flatMap(replicaLine).forEach((l) => io.out(l));
        t.warnings.forEach((w) => io.out(`warning ${w.server} ${w.code}: ${w.message}`));
      }
      return t.replicas.every((r) => r.state === 'OK') ? 0 : 2;
    }
    if (command === 'show') {
      const r = await call<ReplicaStatusDto>(`/api/v1/replicas/${needName()}?fresh=1`);
      io.out(o.json ? JSON.stringify(r, null, 2) : [...replicaLine(r), `             gtid slave ${r.gtid.slave || '-'} io ${r.gtid.io || '-'} binlog ${r.gtid.binlog || '-'}`, ...r.warnings.map((w) => `warning ${w.code}: ${w.message}`)].join('\n'));
      return r.state === 'OK' ? 0 : 2;
    }
    if (command === 'audit') {
      const list = await call<ActionRecordDto[]>(`/api/v1/audit${name ? `?replica=${encodeURIComponent(name)}` : ''}`);
      list.flatMap(actionLines).forEach((l) => io.out(l));
      return 0;
    }
    if (command === 'drift') {
      const d = await call<DriftReportDto>(`/api/v1/replicas/${needName()}/drift`, {});
      io.out(d.ok ? `no difference in ${d.tables.length} tables at ${d.gtidPosition}` : `tables that differ at ${d.gtidPosition}: ${d.differences.join(', ')}`);
      return d.ok ? 0 : 1;
    }
    if ((REPLICA_ACTIONS as readonly string[]).includes(command)) {
      const target = needName();
      if (!o.reason?.trim()) throw new CliError(`${command} needs --reason "…" (it goes to the audit log)`);
      const body = { reason: o.reason, dryRun: o['dry-run'] === true, ...(o.force ? { force: true } : {}), ...(o.host ? { host: o.host } : {}), ...(o.port ? { port: Number(o.port) } : {}) };
      const a = await call<ActionRecordDto>(`/api/v1/replicas/${target}/actions/${command}`, body);
      actionLines(a).forEach((l) => io.out(l));
      return a.outcome === 'done' || a.outcome === 'dry-run' ? 0 : 1;
    }
    throw new CliError(`unknown command "${command}"\n\n${USAGE}`);
  } catch (err) {
    io.err(err instanceof CliError ? err.message : `repl-admin: ${(err as Error).message}`);
    return 1;
  }
}
