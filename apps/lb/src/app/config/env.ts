import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { HOST_PORT, Integer, LOG_LEVELS, Trimmed } from '@vita/runtime';
import { ALGORITHMS } from './config';

const list = (entry: string) => new RegExp(`^${entry}(\\s*,\\s*${entry})*$`);
/** `web1=http://10.0.0.5:3000,web2=http://10.0.0.6:3000` */
export const BACKENDS_PATTERN = list('[A-Za-z0-9][A-Za-z0-9_.-]{0,63}=http://[^,\\s]+');
/** `b=https://10.0.0.3:8443,c=http://10.0.0.4:8080` */
export const BACKUPS_PATTERN = list('[A-Za-z0-9][A-Za-z0-9_.-]{0,63}=https?://[^,\\s]+');

/** The environment lb reads; each variable overrides the matching key of the configuration file. */
export class LbEnv {
  /** YAML or JSON configuration file. Optional when LB_BACKENDS is set. */
  @IsOptional() @IsString() LB_CONFIG?: string;
  /** `listen` */
  @IsOptional() @Trimmed() @Matches(HOST_PORT, { message: 'must be host:port' }) LB_LISTEN?: string;
  /** `admin.listen` */
  @IsOptional() @Trimmed() @Matches(HOST_PORT, { message: 'must be host:port' }) LB_ADMIN_LISTEN?: string;
  /** `backends`, as `name=http://host:port,…` (weight 1 each). */
  @IsOptional() @Trimmed() @Matches(BACKENDS_PATTERN, { message: 'must be a comma-separated list of name=http://host:port' }) LB_BACKENDS?: string;
  /** `backups`, as `name=http(s)://host:port,…` (weight 1 each). */
  @IsOptional() @Trimmed() @Matches(BACKUPS_PATTERN, { message: 'must be a comma-separated list of name=http(s)://host:port' }) LB_BACKUPS?: string;
  /** `nodeName` */
  @IsOptional() @Trimmed() @IsString() LB_NODE_NAME?: string;
  /** `backupCa` */
  @IsOptional() @IsString() LB_BACKUP_CA?: string;
  /** `peer.listen` */
  @IsOptional() @Trimmed() @Matches(HOST_PORT, { message: 'must be host:port' }) LB_PEER_LISTEN?: string;
  /** `peer.tlsCert` */
  @IsOptional() @IsString() LB_PEER_TLS_CERT?: string;
  /** `peer.tlsKey` */
  @IsOptional() @IsString() LB_PEER_TLS_KEY?: string;
  /** `peers.url` */
  @IsOptional() @Trimmed() @IsString() LB_PEERS_URL?: string;
  /** `peers.intervalMs` */
  @IsOptional() @Integer() @IsInt() @Min(100) @Max(3_600_000) LB_PEERS_INTERVAL_MS?: number;
  /** `workers` */
  @IsOptional() @Integer() @IsInt() @Min(0) @Max(64) LB_WORKERS?: number;
  /** `algorithm` */
  @IsOptional() @IsIn(ALGORITHMS) LB_ALGORITHM?: string;
  /** `accessLog.to` */
  @IsOptional() @IsString() LB_ACCESS_LOG?: string;
  /** `logLevel` */
  @IsOptional() @IsIn(LOG_LEVELS) LOG_LEVEL?: string;
  /** Webhook (JSON POST) for alerts, such as a certificate that cannot be renewed; unset: alerts are only logged. Never logged itself. */
  @IsOptional() @Trimmed() @Matches(/^https?:\/\/[^\s/?#@]+([/?#]\S*)?$/, { message: 'must be an http(s) URL without user:password in it (put a token in its path or query)' }) LB_ALERT_WEBHOOK_URL?: string;
  /** An open alert is posted again after this many seconds. */
  @IsOptional() @Integer() @IsInt() @Min(60) @Max(604_800) LB_ALERT_REPEAT_SECONDS?: number;
  /** Bearer token of `POST /backends/:name/state`; unset: run-time state changes are refused. */
  @IsOptional() @IsString() @MinLength(16, { message: 'must be at least 16 characters' }) LB_ADMIN_TOKEN?: string;
  /** Bearer token of the stats page, `/stats` and `/metrics`; unset: they are open to whoever reaches the admin plane. */
  @IsOptional() @IsString() @MinLength(16, { message: 'must be at least 16 characters' }) LB_STATS_TOKEN?: string;
}
