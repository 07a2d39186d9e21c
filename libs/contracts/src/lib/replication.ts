// Replication status and action DTOs (apps/repl-admin): what its JSON API returns and accepts.
import { IsBoolean, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** One state per replica, from the most to the least severe cause that explains it. */
export const REPLICA_STATES = [
  'UNREACHABLE',
  'UNCONFIGURED',
  'DIVERGED',
  'SQL_ERROR',
  'IO_ERROR',
  'TLS_ERROR',
  'STOPPED',
  'IO_CONNECTING',
  'LAGGING',
  'OK',
] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

/** GTID positions as MariaDB reports them (`domain-server-seq` lists); null when unknown. */
export interface GtidPositions {
  /** `@@gtid_binlog_pos`: the newest GTID per domain in this server's binlog. */
  binlog: string | null;
  /** `@@gtid_slave_pos`: the newest GTID per domain applied by replication (replicas). */
  slave: string | null;
  /** `Gtid_IO_Pos` of SHOW REPLICA STATUS: the newest GTID received into the relay log (replicas). */
  io: string | null;
}

/** Early warnings and configuration lint. */
export const WARNING_CODES = [
  'BINLOG_PURGED',
  'ERRANT_TRANSACTION',
  'BINLOG_FORMAT',
  'SERVER_ID',
  'READ_ONLY',
  'GTID_STRICT_MODE',
  'BINLOG_RETENTION',
  'LOG_BIN',
  'ACCOUNT_BYPASSES_READ_ONLY',
  'ACCOUNTS_UNCHECKED',
  'HEARTBEAT',
  'AUTOMATION_OFF',
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

export interface ReplicationWarning {
  code: WarningCode;
  /** The server it concerns. */
  server: string;
  message: string;
}

/** What every server shows, primary or replica. */
export interface ServerStatusDto {
  name: string;
  /** Content-node label from the configuration (null for none). */
  node: string | null;
  /** `host:port` repl-admin connects to. */
  address: string;
  reachable: boolean;
  /** Why the server could not be read (never carries a credential). */
  unreachableReason: string | null;
  serverId: number | null;
  readOnly: boolean | null;
  gtid: GtidPositions;
}

export interface PrimaryStatusDto extends ServerStatusDto {
  role: 'primary';
  /** Oldest binlog still on the primary and the GTID position it starts after (null when unknown). */
  oldestBinlog: { file: string; startsAfter: string } | null;
  /** The heartbeat repl-admin writes every second. */
  heartbeat: { lastWriteAt: string | null; error: string | null };
}

export interface ReplicationErrorDto {
  thread: 'io' | 'sql';
  errno: number;
  /** MariaDB's own text (Last_IO_Error / Last_SQL_Error). */
  message: string;
}

export interface AutomationStatusDto {
  enabled: boolean;
  /** Why automation is off for this replica (an action that did not help, the hourly cap). */
  disabledReason: string | null;
  actionsLastHour: number;
}

export interface ReplicaStatusDto extends ServerStatusDto {
  role: 'replica';
  state: ReplicaState;
  /** When the replica entered this state (as seen by this repl-admin). */
  since: string;
  error: ReplicationErrorDto | null;
  /** Plain-language explanation of the state. */
  cause: string;
  /** What an operator should do next. */
  nextStep: string;
  /** Now minus the newest heartbeat the replica has applied. */
  heartbeatLagSeconds: number | null;
  /** What MariaDB says (NULL, 0 or wrong in exactly the cases that matter); shown beside the heartbeat lag. */
  secondsBehindMaster: number | null;
  /** Slave_IO_Running / Slave_SQL_Running: Yes, No, Connecting, Preparing. */
  ioThread: string | null;
  sqlThread: string | null;
  /** `host:port` the replica replicates from. */
  source: string | null;
  warnings: ReplicationWarning[];
  automation: AutomationStatusDto;
}

export const REPLICA_ACTIONS = ['restart', 'repoint', 'read-only', 'rebuild'] as const;
export type ReplicaAction = (typeof REPLICA_ACTIONS)[number];
/** Automatic repairs: START REPLICA IO_THREAD, a stuck IO thread restarted, the SQL thread restarted once. */
export type AutoRepairKind = 'start-io' | 'restart-io' | 'restart-sql';
export type ActionKind = ReplicaAction | AutoRepairKind | 'drift';

export interface PreconditionDto {
  check: string;
  ok: boolean;
  detail: string;
}

export type ActionOutcome = 'refused' | 'dry-run' | 'done' | 'failed';

/** One audited action (manual or automatic), also the reply of every action request. */
export interface ActionRecordDto {
  id: string;
  at: string;
  action: ActionKind;
  replica: string;
  mode: 'manual' | 'auto';
  dryRun: boolean;
  reason: string;
  outcome: ActionOutcome;
  message: string;
  preconditions: PreconditionDto[];
  /** The exact statements, in order, with credentials redacted. */
  statements: string[];
  durationMs: number;
  requestId: string | null;
}

export interface TopologyDto {
  checkedAt: string;
  primary: PrimaryStatusDto;
  replicas: ReplicaStatusDto[];
  /** Topology-wide warnings and configuration lint (replica warnings are also on each replica). */
  warnings: ReplicationWarning[];
  lastActions: ActionRecordDto[];
}

export interface DriftTableDto {
  table: string;
  primary: number | null;
  replica: number | null;
  match: boolean;
}

export interface DriftReportDto {
  replica: string;
  /** Primary GTID position both sides were compared at. */
  gtidPosition: string;
  checkedAt: string;
  durationMs: number;
  ok: boolean;
  /** Tables whose checksums differ or that exist on one side only. */
  differences: string[];
  tables: DriftTableDto[];
}

const HOST = /^[A-Za-z0-9.-]+$/;
const NOT_BLANK = /\S/;

/** Body of every manual action: a reason is required, dry-run shows the statements without running them. */
export class ReplicaActionRequestDto {
  @IsString() @MaxLength(500) @Matches(NOT_BLANK, { message: 'reason must say why (it goes to the audit log)' }) declare reason: string;
  @IsOptional() @IsBoolean() declare dryRun?: boolean;
}

/** Re-point: the new source, by default the configured primary. */
export class RepointRequestDto extends ReplicaActionRequestDto {
  @IsOptional() @IsString() @Matches(HOST, { message: 'host must be a host name or IPv4 address' }) declare host?: string;
  @IsOptional() @IsInt() @Min(1) @Max(65535) declare port?: number;
}

/** Rebuild: `force` allows rebuilding a replica that looks healthy. */
export class RebuildRequestDto extends ReplicaActionRequestDto {
  @IsOptional() @IsBoolean() declare force?: boolean;
}
