import { Inject, Injectable, Logger, OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { ENV } from '@vita/runtime';
import { parseHostPort } from '@vita/runtime';
import type { ApiEnv } from '../config/env';
import { createDataSource, describeError, withTimeout } from './data-source';

/** Errors that mean "the primary cannot be reached", as opposed to a fault in the write itself. */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
]);

const UNREACHABLE =
  'the primary database is unreachable, so the résumé cannot be changed right now; reads keep working from the replicas';

/** The data warehouse's primary: the only place writes go. Connected lazily, so the api starts without it. */
@Injectable()
export class PrimaryDatabase implements OnModuleDestroy {
  private readonly log = new Logger(PrimaryDatabase.name);
  private source?: DataSource;

  constructor(@Inject(ENV) private readonly env: ApiEnv) {}

  async onModuleDestroy(): Promise<void> {
    await this.source?.destroy().catch(() => undefined);
  }

  /** Runs `work` in one transaction on the primary; 503 when the primary cannot be reached in time. */
  async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const source = await this.connect();
    try {
      return await withTimeout(source.transaction('REPEATABLE READ', work), this.env.DB_TIMEOUT_MS * 5, 'primary');
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      this.forget(err);
      throw new ServiceUnavailableException(UNREACHABLE);
    }
  }

  private async connect(): Promise<DataSource> {
    if (this.source?.isInitialized) return this.source;
    const login = { user: this.env.DB_WRITE_USER, password: this.env.DB_WRITE_PASSWORD, database: this.env.DB_NAME };
    this.source = createDataSource(parseHostPort(this.env.DB_WRITE_HOST), login, { timeoutMs: this.env.DB_TIMEOUT_MS, poolSize: 2 });
    try {
      return await withTimeout(this.source.initialize(), this.env.DB_TIMEOUT_MS, 'primary');
    } catch (err) {
      this.forget(err);
      throw new ServiceUnavailableException(UNREACHABLE);
    }
  }

  private forget(err: unknown): void {
    this.log.warn(`primary database unreachable: ${describeError(err)}`);
    void this.source?.destroy().catch(() => undefined);
    this.source = undefined;
  }
}

// Duck-typed: socket errors may come from another realm (a test sandbox), where instanceof fails.
function isConnectionError(err: unknown): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return (typeof code === 'string' && CONNECTION_ERRORS.has(code)) || (typeof message === 'string' && /no answer within/.test(message));
}
