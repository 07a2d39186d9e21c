import { Injectable } from '@nestjs/common';
import { REPLICA_STATES, type ActionRecordDto, type TopologyDto } from '@vita/contracts';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** Prometheus metrics of repl-admin: lag, thread and server states, actions by kind, alerts, drift. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly gauge = <L extends string>(name: string, help: string, labelNames: L[]) => new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  private readonly counter = <L extends string>(name: string, help: string, labelNames: L[]) => new Counter<L>({ name, help, labelNames, registers: [this.registry] });

  readonly serverUp = this.gauge('repl_admin_server_up', '1 when repl-admin can read the server', ['server', 'role', 'node']);
  readonly replicaState = this.gauge('repl_admin_replica_state', '1 for the state each replica is in', ['replica', 'node', 'state']);
  readonly heartbeatLag = this.gauge('repl_admin_replica_heartbeat_lag_seconds', 'Now minus the newest heartbeat the replica has applied', ['replica', 'node']);
  readonly secondsBehind = this.gauge('repl_admin_replica_seconds_behind_master', 'Seconds_Behind_Master as MariaDB reports it (absent when NULL)', ['replica', 'node']);
  readonly threadRunning = this.gauge('repl_admin_replica_thread_running', '1 when the replication thread runs (Yes), 0 otherwise', ['replica', 'node', 'thread']);
  readonly automationEnabled = this.gauge('repl_admin_replica_automation_enabled', '1 while automatic repair is on for the replica', ['replica']);
  readonly warnings = this.gauge('repl_admin_warnings', 'Early warnings and configuration lint by server and code', ['server', 'code']);
  readonly actions = this.counter('repl_admin_actions_total', 'Actions by replica, kind, mode (manual, auto) and outcome', ['replica', 'action', 'mode', 'outcome']);
  readonly autoResults = this.counter('repl_admin_auto_repair_results_total', 'Automatic repairs judged after their confirmation window', ['replica', 'action', 'result']);
  readonly alerts = this.counter('repl_admin_alerts_total', 'Alert webhook deliveries by event and result', ['event', 'result']);
  readonly heartbeatWrites = this.counter('repl_admin_heartbeat_writes_total', 'Heartbeat writes on the primary by result', ['result']);
  readonly driftChecks = this.counter('repl_admin_drift_checks_total', 'Drift checks by replica and result (match, differ, error)', ['replica', 'result']);
  readonly checks = this.counter('repl_admin_checks_total', 'Full checks of every server, by what started them (poll, action, fresh: a ?fresh=1 read)', ['trigger']);
  readonly freshReads = this.counter('repl_admin_fresh_reads_total', '?fresh=1 reads by how they were answered (recent, joined, new, queued: see fresh.ts)', ['answer']);
  readonly driftTables = this.gauge('repl_admin_drift_differing_tables', 'Tables that differed at the last drift check of the replica', ['replica']);

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'repl_admin_' });
  }

  /** Gauges follow the newest check; labels of servers or states that went away are dropped. */
  onTopology(t: TopologyDto): void {
    for (const g of [this.serverUp, this.replicaState, this.heartbeatLag, this.secondsBehind, this.threadRunning, this.automationEnabled, this.warnings]) g.reset();
    for (const s of [t.primary, ...t.replicas]) this.serverUp.set({ server: s.name, role: s.role, node: s.node ?? '' }, s.reachable ? 1 : 0);
    for (const r of t.replicas) {
      const labels = { replica: r.name, node: r.node ?? '' };
      for (const state of REPLICA_STATES) this.replicaState.set({ ...labels, state }, r.state === state ? 1 : 0);
      if (r.heartbeatLagSeconds !== null) this.heartbeatLag.set(labels, r.heartbeatLagSeconds);
      if (r.secondsBehindMaster !== null) this.secondsBehind.set(labels, r.secondsBehindMaster);
      this.threadRunning.set({ ...labels, thread: 'io' }, r.ioThread === 'Yes' ? 1 : 0);
      this.threadRunning.set({ ...labels, thread: 'sql' }, r.sqlThread === 'Yes' ? 1 : 0);
      this.automationEnabled.set({ replica: r.name }, r.automation.enabled ? 1 : 0);
    }
    for (const w of t.warnings) this.warnings.inc({ server: w.server, code: w.code });
  }

  countAction(a: ActionRecordDto): void {
    this.actions.inc({ replica: a.replica, action: a.action, mode: a.mode, outcome: a.outcome });
  }
}
