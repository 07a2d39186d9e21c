import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength, ValidateIf } from 'class-validator';
import { IsCaFile } from '@vita/mariadb';
import { HOST_PORT, Integer, LOG_LEVELS, Trimmed } from '@vita/runtime';
import { SERVERS_PATTERN } from './servers';

const IDENTIFIER = /^[A-Za-z0-9_]{1,64}$/;
/** An optional whole number within [min, max]. */
const Bounded = (min: number, max: number): PropertyDecorator => (target, key) =>
  // Applied bottom-up like stacked decorators, so the integer check is the one a bad value is reported by.
  [IsOptional(), Integer(), IsInt(), Min(min), Max(max)].reverse().forEach((decorate) => decorate(target, key));

/** Every setting repl-admin reads from its environment (the README's table lists the same). */
export class ReplAdminEnv {
  @IsOptional() @IsString() HOST = '0.0.0.0';
  @Bounded(1, 65535) PORT = 3200;
  @IsOptional() @IsIn(LOG_LEVELS) LOG_LEVEL = 'info';

  /** `name=host:port[@node],…`, the primary first. Either this or REPL_SERVERS_FILE. */
  @ValidateIf((e: ReplAdminEnv) => e.REPL_SERVERS_FILE === undefined)
  @Trimmed()
  @Matches(SERVERS_PATTERN, { message: 'must be a comma-separated list of name=host:port[@node], the primary first (or set REPL_SERVERS_FILE)' })
  REPL_SERVERS?: string;
  /** YAML or JSON file: `{ primary: {name, address, node}, replicas: [...] }`. */
  @IsOptional() @IsString() REPL_SERVERS_FILE?: string;

  /** Least-privilege monitor account (status, heartbeat writes). */
  @IsString() @IsNotEmpty() REPL_MONITOR_USER!: string;
  @IsString() @IsNotEmpty() REPL_MONITOR_PASSWORD!: string;
  /** Account for repairs and manual actions. */
  @IsString() @IsNotEmpty() REPL_ADMIN_USER!: string;
  @IsString() @IsNotEmpty() REPL_ADMIN_PASSWORD!: string;
  /** Bearer token of the action endpoints. */
  @IsString() @MinLength(16, { message: 'must be at least 16 characters' }) REPL_ADMIN_TOKEN!: string;
  /** Replication account a rebuilt replica connects with; unset: the replica keeps the one it has. */
  @IsOptional() @IsString() @IsNotEmpty() REPL_REPLICATION_USER?: string;
  @ValidateIf((e: ReplAdminEnv) => e.REPL_REPLICATION_USER !== undefined)
  @IsString({ message: 'must be set when REPL_REPLICATION_USER is' })
  REPL_REPLICATION_PASSWORD?: string;

  /** The CA file on the replicas' hosts: a rebuilt replica replicates over TLS, verifying the primary's certificate and host name. */
  @IsOptional() @IsString() @IsNotEmpty() REPL_REPLICA_TLS_CA?: string;

  /** How the replicas reach the primary (CHANGE MASTER of a rebuild or a re-point), when it differs from its REPL_SERVERS address. */
  @IsOptional() @Trimmed() @Matches(HOST_PORT, { message: 'must be host:port' }) REPL_PRIMARY_REPLICATION_ADDRESS?: string;

  /**
   * PEM file of the CA the servers' certificates chain to. Set: every connection repl-admin makes
   * uses TLS and verifies the server's certificate and that it names the host in REPL_SERVERS.
   */
  @IsOptional() @IsCaFile() REPL_TLS_CA?: string;

  /** Vita's schema: checked by the drift check and copied by a rebuild. */
  @IsOptional() @Matches(IDENTIFIER, { message: 'must be a plain schema name' }) REPL_DB_NAME = 'vita';
  /** Schema of the heartbeat table (created by `provision`), copied by a rebuild too. */
  @IsOptional() @Matches(IDENTIFIER, { message: 'must be a plain schema name' }) REPL_HEARTBEAT_SCHEMA = 'repl_admin';

  @Bounded(100, 60_000) REPL_POLL_INTERVAL_MS = 1000;
  /**
   * `?fresh=1` (no token needed) accepts a check that started at most this long before the call:
   * concurrent calls share one check, and calls start at most one check per this interval. 0: every
   * call gets a check that started after it (concurrent calls still share one).
   */
  @Bounded(0, 60_000) REPL_FRESH_MIN_INTERVAL_MS = 1000;
  @Bounded(100, 60_000) REPL_HEARTBEAT_INTERVAL_MS = 1000;
  /** Bound on connecting to a server and on each status query. */
  @Bounded(100, 60_000) REPL_QUERY_TIMEOUT_MS = 2000;
  /** Bound on a manual action, a rebuild or a drift check. */
  @Bounded(1000, 3_600_000) REPL_ACTION_TIMEOUT_MS = 120_000;
  /** Heartbeat lag above which a replica is LAGGING. */
  @Bounded(1, 86_400) REPL_LAG_WARN_SECONDS = 10;

  @IsOptional() @IsIn(['on', 'off']) REPL_AUTO_REPAIR = 'on';
  @Bounded(0, 1000) REPL_AUTO_MAX_PER_HOUR = 6;
  /** First pause between two automatic actions on a replica; doubles with each action in the hour. */
  @Bounded(0, 3600) REPL_AUTO_BACKOFF_SECONDS = 5;
  /** How long replication must stay running after an automatic action for it to count as helping. */
  @Bounded(1, 600) REPL_AUTO_CONFIRM_SECONDS = 5;
  /** How long the primary must be reachable again before a still-connecting IO thread is restarted. */
  @Bounded(0, 600) REPL_AUTO_GRACE_SECONDS = 3;

  /** Optional webhook: a JSON POST per new problem (and when it clears). */
  @IsOptional() @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'must be an http(s) URL' })
  REPL_ALERT_WEBHOOK_URL?: string;
  /** A problem must last this long before it is alerted (data errors and divergence: at once). */
  @Bounded(0, 86_400) REPL_ALERT_AFTER_SECONDS = 10;
  /** An unresolved problem is alerted again after this long. */
  @Bounded(60, 604_800) REPL_ALERT_REPEAT_SECONDS = 3600;

  /** How often the topology (`<REPL_DB_NAME>.site_nodes` on the primary) is read: every content node's replica is watched too. 0: never. */
  @Bounded(0, 3_600_000) REPL_SITES_INTERVAL_MS = 5000;

  /** Bearer token of the join endpoints (a new content node's `site join`); unset: joining is off. */
  @IsOptional() @IsString() @MinLength(32, { message: 'must be at least 32 characters' }) REPL_JOIN_SECRET?: string;
  /** The site CA's folder (ca.key, ca.crt, see `npm run ca`): a joining node's certificate is issued by it. */
  @ValidateIf((e: ReplAdminEnv) => e.REPL_JOIN_SECRET !== undefined)
  @IsString({ message: 'must be set when REPL_JOIN_SECRET is' })
  REPL_CA_DIR?: string;
  /** The site's secrets file (NAME=value, mode 600): the passwords and tokens a joining node is given. */
  @ValidateIf((e: ReplAdminEnv) => e.REPL_JOIN_SECRET !== undefined)
  @IsString({ message: 'must be set when REPL_JOIN_SECRET is' })
  REPL_SITE_SECRETS_FILE?: string;
  /** Host pattern of the database accounts a joining node creates on its replica (as provisioning made them on the primary). */
  @IsOptional() @IsString() @IsNotEmpty() REPL_USER_HOST = '%';
  /** Serve HTTPS with this certificate and key (PEM files); both or neither. */
  @ValidateIf((e: ReplAdminEnv) => e.REPL_HTTPS_KEY !== undefined)
  @IsString({ message: 'must be set when REPL_HTTPS_KEY is' })
  REPL_HTTPS_CERT?: string;
  @ValidateIf((e: ReplAdminEnv) => e.REPL_HTTPS_CERT !== undefined)
  @IsString({ message: 'must be set when REPL_HTTPS_CERT is' })
  REPL_HTTPS_KEY?: string;

  /** Optional JSON-lines file every action is appended to (the audit log is also logged). */
  @IsOptional() @IsString() @IsNotEmpty() REPL_AUDIT_LOG?: string;
  /** Lint: binlogs kept for less than this put a replica that is down for longer beyond repair. */
  @Bounded(0, 31_536_000) REPL_BINLOG_MIN_RETENTION_SECONDS = 86_400;
}
