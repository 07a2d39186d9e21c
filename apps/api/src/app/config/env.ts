import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { HOST_PORT, HOST_PORT_LIST, Integer, LOG_LEVELS, Trimmed } from '@vita/runtime';

/** Every setting the api reads from its environment. The README's table lists the same. */
export class ApiEnv {
  @IsOptional() @IsString() HOST = '0.0.0.0';
  @IsOptional() @Integer() @IsInt() @Min(1) @Max(65535) PORT = 3100;
  @IsOptional() @IsIn(LOG_LEVELS) LOG_LEVEL = 'info';

  @IsOptional() @IsString() @Matches(/^\w+$/) DB_NAME = 'vita';
  /** Read databases in order of preference: the local replica first, the primary last. */
  @Trimmed() @Matches(HOST_PORT_LIST, { message: 'must be a comma-separated list of host:port' }) DB_READ_HOSTS!: string;
  @IsString() @IsNotEmpty() DB_READ_USER!: string;
  @IsString() @IsNotEmpty() DB_READ_PASSWORD!: string;
  @Trimmed() @Matches(HOST_PORT, { message: 'must be host:port' }) DB_WRITE_HOST!: string;
  @IsString() @IsNotEmpty() DB_WRITE_USER!: string;
  @IsString() @IsNotEmpty() DB_WRITE_PASSWORD!: string;

  /** Bearer token for writes. */
  @IsString() @MinLength(16, { message: 'must be at least 16 characters' }) VITA_ADMIN_TOKEN!: string;

  @IsOptional() @Integer() @IsInt() @Min(100) @Max(60000) DB_CHECK_INTERVAL_MS = 500;
  @IsOptional() @Integer() @IsInt() @Min(100) @Max(60000) DB_TIMEOUT_MS = 2000;
  @IsOptional() @Integer() @IsInt() @Min(0) @Max(86400) READY_MAX_LAG_SECONDS = 30;
  @IsOptional() @Integer() @IsInt() @Min(0) @Max(86400) CACHE_MAX_AGE_SECONDS = 2;
}
