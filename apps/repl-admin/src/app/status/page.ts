import type { TopologyDto } from '@vita/contracts';
import { Eta } from 'eta';
import { STATUS_PAGE_STYLE } from '@vita/runtime';

const eta = new Eta({ autoEscape: true, autoTrim: [false, 'nl'] });

/** Colour of a state badge: green healthy, amber watch, red act. */
const tone = (state: string): string => (state === 'OK' ? 'ok' : ['LAGGING', 'IO_CONNECTING', 'STOPPED'].includes(state) ? 'watch' : 'act');

const TEMPLATE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="5">
<title><%= it.title %></title>
<style><%~ it.style %></style>
</head>
<body>
<h1>Vita replication</h1>
<% if (!it.t) { %>
<p>The first check is still running; this page refreshes by itself.</p>
<% } else { const t = it.t; %>
<p class="muted">Checked <%= t.checkedAt %> · refreshes every 5 s · <a href="/api/v1/topology">JSON</a> · <a href="/metrics">metrics</a></p>
<h2>Primary: <%= t.primary.name %></h2>
<p><span class="badge <%= t.primary.reachable ? 'ok' : 'act' %>"><%= t.primary.reachable ? 'REACHABLE' : 'UNREACHABLE' %></span>
  <%= t.primary.address %><% if (t.primary.node) { %> · node <%= t.primary.node %><% } %>
  · gtid_binlog_pos <code><%= t.primary.gtid.binlog ?? '?' %></code>
  <% if (t.primary.oldestBinlog) { %>· oldest binlog <code><%= t.primary.oldestBinlog.file %></code> (after <code><%= t.primary.oldestBinlog.startsAfter || 'the beginning' %></code>)<% } %>
  · heartbeat <%= t.primary.heartbeat.error ? 'failing: ' + t.primary.heartbeat.error : (t.primary.heartbeat.lastWriteAt ?? 'not written yet') %>
  <% if (t.primary.unreachableReason) { %><br><%= t.primary.unreachableReason %><% } %></p>
<h2>Replicas</h2>
<table>
<tr><th>Replica</th><th>State</th><th>Lag</th><th>Last error</th><th>Cause and next step</th><th>GTID (slave / io / binlog)</th></tr>
<% for (const r of t.replicas) { %>
<tr>
  <td><strong><%= r.name %></strong><br><span class="muted"><%= r.node ? 'node ' + r.node : '' %> <%= r.address %></span></td>
  <td><span class="badge <%= it.tone(r.state) %>"><%= r.state %></span><br><span class="muted">since <%= r.since %></span><br><span class="muted">IO <%= r.ioThread ?? '-' %> · SQL <%= r.sqlThread ?? '-' %></span></td>
  <td>heartbeat <strong><%= r.heartbeatLagSeconds === null ? '?' : r.heartbeatLagSeconds + ' s' %></strong><br><span class="muted">Seconds_Behind_Master <%= r.secondsBehindMaster === null ? 'NULL' : r.secondsBehindMaster %></span></td>
  <td><% if (r.error) { %><strong><%= r.error.errno %></strong> (<%= r.error.thread.toUpperCase() %>)<br><span class="muted"><%= r.error.message %></span><% } else { %>none<% } %></td>
  <td><%= r.cause %><br><span class="next">Next: <%= r.nextStep %></span>
    <% if (!r.automation.enabled) { %><br><span class="muted">Automatic repair off: <%= r.automation.disabledReason %></span><% } %></td>
  <td><code><%= r.gtid.slave || '-' %></code><br><code><%= r.gtid.io || '-' %></code><br><code><%= r.gtid.binlog || '-' %></code></td>
</tr>
<% } %>
</table>
<h2>Warnings</h2>
<% if (t.warnings.length === 0) { %><p>None.</p><% } else { %><ul>
<% for (const w of t.warnings) { %><li><strong><%= w.server %></strong> <code><%= w.code %></code>: <%= w.message %></li><% } %>
</ul><% } %>
<h2>Last actions</h2>
<% if (t.lastActions.length === 0) { %><p>None yet.</p><% } else { %>
<table>
<tr><th>When</th><th>Action</th><th>Outcome</th><th>Reason</th><th>Result</th></tr>
<% for (const a of t.lastActions) { %>
<tr><td><%= a.at %></td><td><%= a.mode %> <strong><%= a.action %></strong> on <%= a.replica %><%= a.dryRun ? ' (dry run)' : '' %></td><td><%= a.outcome %></td><td><%= a.reason %></td><td><%= a.message %></td></tr>
<% } %>
</table>
<% } %>
<% } %>
</body>
</html>
`;

/** The status page: state, lag, last error, cause and next step of every replica, and the last actions. */
export const renderStatusPage = (t: TopologyDto | undefined): string => eta.renderString(TEMPLATE, { t, tone, style: STATUS_PAGE_STYLE, title: t ? `Vita replication: ${t.replicas.map((r) => `${r.name} ${r.state}`).join(', ')}` : 'Vita replication' });
