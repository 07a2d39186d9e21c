import type { LbAcmeStats, LbBackendStats, LbCertificateStats, LbStats } from '@vita/contracts';

const html = (value: unknown): string =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const COLORS: Record<LbBackendStats['status'], string> = { UP: '#c8f7c5', DOWN: '#f7c5c5', DRAIN: '#f7ecc5', MAINT: '#d5d5f0' };

function row(b: LbBackendStats): string {
  const r = b.responses;
  const errors = Object.entries(b.errors)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const check = b.check ? `${b.check.ok ? 'ok' : 'fail'} ${b.check.status ?? ''} ${b.check.error ?? ''} (${b.check.durationMs} ms)` : '—';
  const cells = [
    `<b>${html(b.name)}</b>${b.backup ? ' <small>(backup)</small>' : ''}<br><small>${html(b.url)}</small>`,
    html(b.status),
    `${b.effectiveWeight}/${b.weight}`,
    b.active,
    b.total,
    `${r['2xx']} / ${r['3xx']} / ${r['4xx']} / ${r['5xx']}`,
    b.retries,
    html(errors || '—'),
    `${b.latency.p50Ms} / ${b.latency.p90Ms} / ${b.latency.p99Ms}`,
    html(check),
    `${html(b.lastChange)}<br><small>${html(b.lastChangeReason)}</small>`,
  ];
  return `<tr style="background:${COLORS[b.status]}">${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;
}

const cell = (value: string | number | null | undefined): string => `<td>${value === null || value === undefined ? '—' : html(value)}</td>`;

/** The certificates in force, then the ACME side's state per name. */
function certificates(certs: LbCertificateStats[] | undefined, acme: LbAcmeStats | undefined): string {
  if (certs === undefined) return '';
  const rows = certs.map((c) => `<tr${c.lastReloadError ? ' style="background:#f7c5c5"' : ''}>${[c.names.join(', '), c.issuer, c.notAfter, c.daysLeft, c.file, c.lastReload, c.lastReloadError].map(cell).join('')}</tr>`);
  let out = `<h2>Certificates</h2>
<table><tr><th>names</th><th>issuer</th><th>expires</th><th>days left</th><th>file</th><th>read</th><th>last read error</th></tr>
${rows.join('\n')}
</table>`;
  if (acme !== undefined) {
    const names = acme.names.map((n) => `<tr${n.lastError ? ' style="background:#f7c5c5"' : ''}>${[n.name, n.covered ? 'yes' : 'no', n.issuer, n.notAfter, n.daysLeft, n.renewAt, n.lastAttemptAt, n.lastError, n.nextAttemptAt].map(cell).join('')}</tr>`);
    out += `
<p>ACME ${html(acme.directoryUrl)} (${html(acme.challengeType)}): <b>${html(acme.state)}</b>${acme.failures > 0 ? `, ${acme.failures} failed attempt(s) in a row` : ''}${acme.cleanupError ? ` · <b>TXT record left behind:</b> ${html(acme.cleanupError)}` : ''}</p>
<table><tr><th>name</th><th>covered</th><th>issuer</th><th>expires</th><th>days left</th><th>renewal due</th><th>last attempt</th><th>last error</th><th>next attempt</th></tr>
${names.join('\n')}
</table>`;
  }
  return out;
}

/** The human-readable stats page (`GET /`), refreshed every 2 s. */
export function renderStatsPage(s: LbStats): string {
  const f = s.frontend;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>lb stats</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5rem}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#eee}</style>
</head><body>
<h1>lb</h1>
<p>${html(s.algorithm)} · ${s.workers} worker(s) · up ${s.uptimeSeconds} s${s.draining ? ' · <b>draining</b>' : ''} · config ${html(s.config.source)} loaded ${html(s.config.loadedAt)}${s.config.lastReloadError ? ` · <b>last reload failed:</b> ${html(s.config.lastReloadError)}` : ''}</p>
<p>Clients: ${f.connections} connections (limit ${f.connectionLimit}; refused ${f.connectionsRefused.maxConnections} at it, ${f.connectionsRefused.maxConnectionsPerAddress} per address; idle closed ${f.idleClosed}), ${f.active} requests in flight, ${f.total} total; 2xx ${f.responses['2xx']}, 4xx ${f.responses['4xx']}, 5xx ${f.responses['5xx']};
rejected ${f.rejected}, no backend ${f.noBackend}, queued ${f.queued}, queue timeouts ${f.queueTimeouts}, aborted ${f.clientAborts}, websockets ${f.websockets}; log lines dropped: access ${f.accessLogDropped}, lb ${f.logDropped};
latency p50/p90/p99 ${f.latency.p50Ms} / ${f.latency.p90Ms} / ${f.latency.p99Ms} ms</p>
<table><tr><th>backend</th><th>status</th><th>weight</th><th>active</th><th>total</th><th>2xx / 3xx / 4xx / 5xx</th><th>retries</th><th>errors</th><th>p50 / p90 / p99 ms</th><th>last check</th><th>last change</th></tr>
${s.backends.map(row).join('\n')}
</table>
${certificates(s.certificates, s.acme)}
<p><a href="/stats">JSON</a> · <a href="/metrics">Prometheus</a></p>
</body></html>`;
}
