import type { ActionRecordDto, AutomationStatusDto, PrimaryStatusDto, ReplicaState, ReplicaStatusDto, ReplicationWarning, ServerStatusDto, TopologyDto } from '@vita/contracts';
import type { ReplConfig } from '../config/config';
import { address } from '../config/servers';
import { errantGtids, formatGtids, purgedPast } from '../db/gtid';
import { diagnose } from './explain';
import { lintServer, lintTopology } from './lint';
import type { ServerProbe } from './probe';

export interface TopologyInput {
  config: ReplConfig;
  /** Primary first, then the replicas in configuration order. */
  probes: ServerProbe[];
  /** The primary's GTID state and position read again after the replicas' (null: use the probe's). */
  primaryGtid: { state: string; pos: string } | null;
  now: number;
  heartbeat: PrimaryStatusDto['heartbeat'];
  automation: (replica: string) => AutomationStatusDto;
  /** State and since of each replica at the previous check; updated in place. */
  since: Map<string, { state: ReplicaState; at: string }>;
  lastActions: ActionRecordDto[];
}

const round = (n: number): number => Math.round(n * 10) / 10;

function serverStatus(p: ServerProbe): ServerStatusDto {
  return {
    name: p.server.name,
    node: p.server.node,
    address: address(p.server),
    reachable: p.reachable,
    unreachableReason: p.unreachableReason,
    serverId: p.vars?.serverId ?? null,
    readOnly: p.vars?.readOnly ?? null,
    gtid: { binlog: p.vars?.gtidBinlogPos ?? null, slave: p.vars ? p.vars.gtidSlavePos : null, io: p.threads?.gtidIoPos ?? null },
  };
}

/** Builds the whole picture from one round of probes (pure: no I/O). */
export function buildTopology(input: TopologyInput): TopologyDto {
  const { config, probes, now } = input;
  const [primaryProbe, ...replicaProbes] = probes;
  const lint = lintTopology(probes);
  const serverWarnings = (p: ServerProbe) => [...lintServer(p, config), ...lint.filter((w) => w.server === p.server.name)];
  const primaryVars = primaryProbe.vars;
  const checkedAt = new Date(now).toISOString();

  const replicas = replicaProbes.map((p): ReplicaStatusDto => {
    const name = p.server.name;
    const primaryGtid = input.primaryGtid ?? (primaryVars && { state: primaryVars.gtidBinlogState, pos: primaryVars.gtidBinlogPos });
    const errant = p.vars && primaryGtid ? errantGtids(p.vars.gtidBinlogState, primaryGtid.state, primaryGtid.pos) : [];
    const purged = p.vars && primaryProbe.oldestBinlog ? purgedPast(p.vars.gtidSlavePos, primaryProbe.oldestBinlog.startsAfter) : [];
    const heartbeatLagSeconds = p.heartbeatMs === null ? null : round(Math.max(0, now - p.heartbeatMs) / 1000);
    const d = diagnose({ probe: p, primaryReachable: primaryProbe.reachable, heartbeatLagSeconds, lagThreshold: config.env.REPL_LAG_WARN_SECONDS, errant, purged });
    const automation = input.automation(name);
    const warnings = serverWarnings(p);
    const warn = (code: ReplicationWarning['code'], message: string) => warnings.push({ code, server: name, message });
    if (purged.length > 0) {
      warn('BINLOG_PURGED', `its position is older than the primary's oldest binlog (${primaryProbe.oldestBinlog?.file} starts after ${formatGtids(purged)}): restarting will fail with 1236; rebuild it`);
    }
    if (errant.length > 0) warn('ERRANT_TRANSACTION', `errant transactions in its binlog: ${formatGtids(errant)}`);
    if (p.reachable && p.heartbeatMs === null && !p.heartbeatError) warn('HEARTBEAT', 'no heartbeat has reached this replica yet');
    if (!automation.enabled) warn('AUTOMATION_OFF', `automatic repair is off for this replica: ${automation.disabledReason}`);
    const previous = input.since.get(name);
    const since = previous?.state === d.state ? previous.at : checkedAt;
    input.since.set(name, { state: d.state, at: since });
    return {
      ...serverStatus(p),
      role: 'replica',
      ...d,
      since,
      heartbeatLagSeconds,
      secondsBehindMaster: p.threads?.secondsBehindMaster ?? null,
      ioThread: p.threads?.ioRunning ?? null,
      sqlThread: p.threads?.sqlRunning ?? null,
      source: p.threads ? `${p.threads.masterHost}:${p.threads.masterPort}` : null,
      warnings,
      automation,
    };
  });

  const primaryWarnings = serverWarnings(primaryProbe);
  if (input.heartbeat.error && primaryProbe.reachable) {
    primaryWarnings.push({ code: 'HEARTBEAT', server: primaryProbe.server.name, message: `the heartbeat cannot be written: ${input.heartbeat.error}` });
  }
  const primary: PrimaryStatusDto = { ...serverStatus(primaryProbe), role: 'primary', oldestBinlog: primaryProbe.oldestBinlog, heartbeat: input.heartbeat };
  return { checkedAt, primary, replicas, warnings: [...primaryWarnings, ...replicas.flatMap((r) => r.warnings)], lastActions: input.lastActions };
}
