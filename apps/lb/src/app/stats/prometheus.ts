import { LB_ERROR_KINDS, type LbBackendStatus, type LbResponses } from '@vita/contracts';
import type { Report } from '../control/control-plane';
import { LATENCY_BOUNDS_MS } from './counters';

/*
 * Prometheus text exposition (format 0.0.4). Names follow HAProxy's built-in exporter with `lb_`
 * for `haproxy_` (haproxy_server_current_sessions → lb_server_current_sessions, …), so existing
 * dashboards and alerts carry over with a rename; labels are `server` and `code` as there.
 */

type Labels = Record<string, string>;

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelText = (labels: Labels) => {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
};

class Exposition {
  private readonly lines: string[] = [];

  metric(name: string, type: 'gauge' | 'counter' | 'histogram', help: string, samples: [Labels, number][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) this.lines.push(`${name}${labelText(labels)} ${value}`);
  }

  /** A histogram in seconds from lb's millisecond buckets. */
  histogram(name: string, help: string, series: [Labels, number[]][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const [labels, counts] of series) {
      let cumulative = 0;
      // lb keeps bucket counts, not the exact sum: the sum is estimated from bucket midpoints.
      let sum = 0;
      counts.forEach((n, i) => {
        cumulative += n;
        const upper = LATENCY_BOUNDS_MS[i];
        const lower = i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1];
        sum += n * ((upper ?? lower) + lower) / 2 / 1000;
        this.lines.push(`${name}_bucket${labelText({ ...labels, le: upper === undefined ? '+Inf' : String(upper / 1000) })} ${cumulative}`);
      });
      this.lines.push(`${name}_sum${labelText(labels)} ${Math.round(sum * 1e6) / 1e6}`, `${name}_count${labelText(labels)} ${cumulative}`);
    }
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

const STATES: LbBackendStatus[] = ['UP', 'DOWN', 'DRAIN', 'MAINT'];
const byCode = (labels: Labels, r: LbResponses): [Labels, number][] => (Object.keys(r) as (keyof LbResponses)[]).map((code) => [{ ...labels, code }, r[code]]);

export function renderMetrics(report: Report): string {
  const { stats } = report;
  const f = stats.frontend;
  const servers = stats.backends;
  const out = new Exposition();
  const each = (value: (b: (typeof servers)[number]) => number): [Labels, number][] => servers.map((b) => [{ server: b.name }, value(b)]);

  out.metric('lb_process_resident_memory_bytes', 'gauge', 'Resident memory of each lb process.', report.processes.map((p) => [{ role: p.role, pid: String(p.pid) }, p.rssBytes]));
  out.metric('lb_process_workers', 'gauge', 'Data-plane processes.', [[{}, stats.workers]]);
  out.metric('lb_process_uptime_seconds', 'gauge', 'Seconds since lb started.', [[{}, stats.uptimeSeconds]]);
  out.metric('lb_process_draining', 'gauge', '1 while lb drains after SIGTERM.', [[{}, stats.draining ? 1 : 0]]);
  out.metric('lb_process_config_reload_failed', 'gauge', '1 when the last reload failed and the previous configuration is in force.', [[{}, stats.config.lastReloadError ? 1 : 0]]);

  out.metric('lb_frontend_current_sessions', 'gauge', 'Client connections open.', [[{}, f.connections]]);
  out.metric('lb_frontend_limit_sessions', 'gauge', 'limits.maxConnections in force, over all workers.', [[{}, f.connectionLimit]]);
  out.metric('lb_frontend_connections_refused_total', 'counter', 'New client connections refused (503, closed), by the limit that refused them.', [
    [{ limit: 'maxConnections' }, f.connectionsRefused.maxConnections],
    [{ limit: 'maxConnectionsPerAddress' }, f.connectionsRefused.maxConnectionsPerAddress],
  ]);
  out.metric('lb_frontend_idle_connections_closed_total', 'counter', 'Idle client connections closed to stay within limits.maxIdleConnections or to free file descriptors.', [[{}, f.idleClosed]]);
  out.metric('lb_frontend_accept_errors_total', 'counter', 'Errors of the listening socket (e.g. out of file descriptors); accepting goes on.', [[{}, f.acceptErrors]]);
  out.metric('lb_log_dropped_lines_total', 'counter', 'Log lines dropped because their destination did not keep up.', [
    [{ log: 'access' }, f.accessLogDropped],
    [{ log: 'lb' }, f.logDropped],
  ]);
  out.metric('lb_frontend_current_requests', 'gauge', 'Requests in flight.', [[{}, f.active]]);
  out.metric('lb_frontend_http_requests_total', 'counter', 'HTTP requests received.', [[{}, f.total]]);
  out.metric('lb_frontend_http_responses_total', 'counter', 'HTTP responses sent, by status class.', byCode({}, f.responses));
  out.metric('lb_frontend_requests_denied_total', 'counter', 'Malformed or hostile requests answered by lb itself.', [[{}, f.rejected]]);
  out.metric('lb_frontend_client_aborts_total', 'counter', 'Requests the client abandoned before the response was complete.', [[{}, f.clientAborts]]);
  out.metric('lb_frontend_current_websockets', 'gauge', 'WebSocket tunnels open.', [[{}, f.websockets]]);
  out.histogram('lb_frontend_response_time_seconds', 'Time from request to end of response, as the client saw it.', [[{}, report.frontendHistogram]]);

  out.metric('lb_backend_current_queue', 'gauge', 'Requests waiting for a server below its maxconn.', [[{}, f.queued]]);
  out.metric('lb_backend_queue_timeouts_total', 'counter', 'Requests answered 503 after waiting queue.timeoutMs.', [[{}, f.queueTimeouts]]);
  out.metric('lb_backend_queue_full_total', 'counter', 'Requests answered 503 because the queue was full.', [[{}, f.queueFull]]);
  out.metric('lb_backend_no_server_total', 'counter', 'Requests answered 503 because no server was available.', [[{}, f.noBackend]]);
  out.metric('lb_backend_active_servers', 'gauge', 'Local (non-backup) servers taking requests.', [[{}, servers.filter((b) => !b.backup && b.status === 'UP').length]]);
  out.metric('lb_backend_backup_servers', 'gauge', 'Backup servers (other nodes\' lbs) UP; used only while no local server is.', [[{}, servers.filter((b) => b.backup && b.status === 'UP').length]]);

  out.metric('lb_server_status', 'gauge', 'Current state of each server (1 for the state it is in).', servers.flatMap((b) => STATES.map((state): [Labels, number] => [{ server: b.name, state }, b.status === state ? 1 : 0])));
  out.metric('lb_server_backup', 'gauge', '1 for a backup server (another node\'s lb), 0 for a local one.', each((b) => (b.backup ? 1 : 0)));
  out.metric('lb_server_weight', 'gauge', 'Configured weight.', each((b) => b.weight));
  out.metric('lb_server_effective_weight', 'gauge', 'Weight in use (below the configured one during slow start).', each((b) => b.effectiveWeight));
  out.metric('lb_server_current_sessions', 'gauge', 'Requests in flight (WebSocket tunnels included).', each((b) => b.active));
  out.metric('lb_server_sessions_total', 'counter', 'Requests sent, retries included.', each((b) => b.total));
  out.metric('lb_server_http_responses_total', 'counter', 'Responses by status class.', servers.flatMap((b) => byCode({ server: b.name }, b.responses)));
  out.metric('lb_server_connection_errors_total', 'counter', 'Failed connection attempts.', each((b) => b.errors.connect));
  out.metric('lb_server_response_errors_total', 'counter', 'Responses cut short: resets, stale connections, protocol errors.', each((b) => b.errors.reset + b.errors.stale + b.errors.protocol));
  out.metric('lb_server_errors_total', 'counter', 'Failures by kind.', servers.flatMap((b) => LB_ERROR_KINDS.map((kind): [Labels, number] => [{ server: b.name, kind }, b.errors[kind]])));
  out.metric('lb_server_retry_warnings_total', 'counter', 'Failed attempts that were retried on another server.', each((b) => b.retries));
  out.metric('lb_server_check_failures_total', 'counter', 'Failed active health checks.', each((b) => report.checkFailures[b.name] ?? 0));
  out.metric('lb_server_check_duration_seconds', 'gauge', 'Duration of the last health check.', each((b) => (b.check?.durationMs ?? 0) / 1000));
  out.metric('lb_server_last_change_timestamp_seconds', 'gauge', 'When the server last changed state (Unix time).', each((b) => Math.round(Date.parse(b.lastChange) / 1000)));
  const certs = stats.certificates ?? [];
  if (certs.length > 0) {
    // One series per name a certificate serves (the file too, to tell two certificates for a name apart).
    const perName = (value: (c: (typeof certs)[number]) => number | null): [Labels, number][] =>
      certs.flatMap((c) => { const v = value(c); return v === null ? [] : c.names.map((name): [Labels, number] => [{ name, file: c.file }, v]); });
    out.metric('lb_certificate_expiry_timestamp_seconds', 'gauge', 'When the certificate in force expires (Unix time).', perName((c) => (c.notAfter === null ? null : Date.parse(c.notAfter) / 1000)));
    out.metric('lb_certificate_not_before_timestamp_seconds', 'gauge', 'When the certificate in force became valid (Unix time).', perName((c) => (c.notBefore === null ? null : Date.parse(c.notBefore) / 1000)));
    out.metric('lb_certificate_reload_failed', 'gauge', '1 when the last read of the certificate file failed and the previous certificate is in force.', certs.map((c) => [{ file: c.file }, c.lastReloadError === null ? 0 : 1]));
  }
  const acme = stats.acme;
  if (acme !== undefined) {
    const first = acme.names[0];
    const at = (iso: string | undefined): [Labels, number][] => (iso === undefined ? [] : [[{}, Date.parse(iso) / 1000]]);
    out.metric('lb_acme_failures', 'gauge', 'ACME attempts that failed in a row (0 once one succeeds).', [[{}, acme.failures]]);
    out.metric('lb_acme_certificate_covers', 'gauge', '1 when the ACME certificate on disk covers the name.', acme.names.map((n): [Labels, number] => [{ name: n.name }, n.covered ? 1 : 0]));
    out.metric('lb_acme_last_attempt_timestamp_seconds', 'gauge', 'When lb last asked the ACME server for a certificate (Unix time).', at(first?.lastAttemptAt));
    out.metric('lb_acme_last_success_timestamp_seconds', 'gauge', 'When lb last obtained a certificate (Unix time).', at(first?.lastSuccessAt));
    out.metric('lb_acme_next_attempt_timestamp_seconds', 'gauge', 'When lb checks or renews next (Unix time).', at(first?.nextAttemptAt));
  }
  out.histogram('lb_server_response_time_seconds', 'Time from request to end of response, by server.', servers.map((b) => [{ server: b.name }, report.backendHistograms[b.name] ?? []]));
  return out.toString();
}
