import { Eta } from 'eta';
import { STATUS_PAGE_STYLE } from '@vita/runtime';
import type { DnsStatus } from '../controller/engine';

const eta = new Eta({ autoEscape: true, autoTrim: [false, 'nl'] });

/** Colour of a verdict: green published on its merits, amber published or held for another reason, red withdrawn. */
const tone = (e: DnsStatus['endpoints'][number]): string => (e.verdict === 'healthy' ? 'ok' : e.published || e.verdict === 'held' || e.verdict === 'drained' ? 'watch' : 'act');

const TEMPLATE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="2">
<title>Vita DNS: <%= it.s.name %></title>
<style><%~ it.style %></style>
</head>
<body>
<h1>Vita DNS: <code><%= it.s.name %></code></h1>
<p class="muted">Seen from <b><%= it.s.vantage %></b>; <%= it.s.vantages.heard.length %> of <%= it.s.vantages.configured %> vantage points heard (<%= it.s.vantages.heard.join(', ') || 'none yet' %>).
<% if (!it.s.quorum) { %><span class="badge act">no quorum: DNS is left as it is</span><% } %>
 TTL <%= it.s.ttl %> s; a probe every <%= it.s.settings.intervalMs %> ms, down after <%= it.s.settings.fall %>, up after <%= it.s.settings.rise %>.</p>
<% if (it.s.rounds === 0) { %><p>The first round of probes is still running; this page refreshes by itself.</p><% } %>
<h2>Nodes</h2>
<table>
<tr><th>Node</th><th>Address</th><th>Published</th><th>Why</th><th>Vantage points</th><th>Here</th><th>Version</th></tr>
<% for (const e of it.s.endpoints) { %>
<tr>
<td><%= e.node %></td><td><code><%= e.address %></code> (<%= e.type %>)</td>
<td><span class="badge <%= it.tone(e) %>"><%= e.published ? 'published' : 'withdrawn' %></span></td>
<td><%= e.verdict %>: <%= e.reason %></td>
<td>up: <%= e.upVotes.join(', ') || '–' %><br>down: <%= e.downVotes.join(', ') || '–' %></td>
<td><% if (e.here) { %><%= e.here.up ? 'up' : 'down' %> since <%= e.here.since %><% if (e.here.last && !e.here.last.ok) { %><br><span class="muted"><%= e.here.last.error %></span><% } %><% } else { %>–<% } %></td>
<td><%= e.version ?? '–' %></td>
</tr>
<% } %>
</table>
<h2>Providers</h2>
<table>
<tr><th>Provider</th><th>State</th><th>Serves</th><th>Last sync</th><th>Last error</th></tr>
<% for (const p of it.s.providers) { %>
<tr><td><%= p.provider %></td><td><span class="badge <%= p.state === 'ok' ? 'ok' : p.state === 'pending' ? 'watch' : 'act' %>"><%= p.state %></span></td>
<td><% for (const [type, set] of Object.entries(p.served ?? {})) { %><%= type %> <code><%= set.values.join(' ') || 'nothing' %></code><br><% } %></td>
<td><%= p.lastSync ?? '–' %></td><td><% if (p.lastError) { %><%= p.lastError.kind %>: <%= p.lastError.message %> (<%= p.lastError.at %>)<% if (p.retryAt) { %>; retry at <%= p.retryAt %><% } %><% } else { %>–<% } %></td></tr>
<% } %>
</table>
<% if (it.s.peers.length) { %>
<h2>Peers</h2>
<table><tr><th>Peer</th><th>Vantage</th><th>State</th></tr>
<% for (const p of it.s.peers) { %><tr><td><code><%= p.url %></code></td><td><%= p.vantage ?? '?' %></td><td><%= p.ok ? 'answering' : p.error %></td></tr><% } %>
</table>
<% } %>
<% if (it.s.drains.some((d) => d.drained)) { %>
<h2>Drained</h2>
<ul><% for (const d of it.s.drains.filter((x) => x.drained)) { %><li><b><%= d.node %></b> by <%= d.by %> at <%= d.at %>: <%= d.reason %></li><% } %></ul>
<% } %>
</body>
</html>
`;

/** Pure: the status page for a status snapshot. */
export function renderStatusPage(s: DnsStatus): string {
  return eta.renderString(TEMPLATE, { s, tone, style: STATUS_PAGE_STYLE });
}
