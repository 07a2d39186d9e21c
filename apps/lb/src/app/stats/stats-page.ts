import type { LbBackendStats, LbStats } from '@vita/contracts';

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
    `<b>${html(b.name)}</b><br><small>${html(b.url)}</small>`,
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
<p><a href="/stats">JSON</a> · <a href="/metrics">Prometheus</a></p>
</body></html>`;
}
