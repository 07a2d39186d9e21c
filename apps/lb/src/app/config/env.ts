import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { HOST_PORT, Integer, LOG_LEVELS, Trimmed } from '@vita/runtime';
import { ALGORITHMS } from './config';

const ENTRY = '[A-Za-z0-9][A-Za-z0-9_.-]{0,63}=http://[^,\\s]+';
/** `web1=http://10.0.0.5:3000,web2=http://10.0.0.6:3000` */
export const BACKENDS_PATTERN = new RegExp(`^${ENTRY}(\\s*,\\s*${ENTRY})*$`);

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
  /** `workers` */
  @IsOptional() @Integer() @IsInt() @Min(0) @Max(64) LB_WORKERS?: number;
  /** `algorithm` */
  @IsOptional() @IsIn(ALGORITHMS) LB_ALGORITHM?: string;
  /** `accessLog.to` */
  @IsOptional() @IsString() LB_ACCESS_LOG?: string;
  /** `logLevel` */
  @IsOptional() @IsIn(LOG_LEVELS) LOG_LEVEL?: string;
  /** Bearer token of `POST /backends/:name/state`; unset: run-time state changes are refused. */
  @IsOptional() @IsString() @MinLength(16, { message: 'must be at least 16 characters' }) LB_ADMIN_TOKEN?: string;
  /** Bearer token of the stats page, `/stats` and `/metrics`; unset: they are open to whoever reaches the admin plane. */
  @IsOptional() @IsString() @MinLength(16, { message: 'must be at least 16 characters' }) LB_STATS_TOKEN?: string;
}
