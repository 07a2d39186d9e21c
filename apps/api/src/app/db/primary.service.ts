import { Inject, Injectable, Logger, OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { ENV, parseHostPort } from '@vita/runtime';
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

const UNREACHABLE = 'the primary database is unreachable, so the write was not applied; reads keep working from the replicas';

/**
 * Where a write is: `connecting` (nothing sent yet), `writing` (statements sent, no COMMIT: the
 * server rolls back when the connection goes), `committing` (COMMIT sent: only the server knows).
 */
type Phase = 'connecting' | 'writing' | 'committing';

class WriteTimeout extends Error {
  constructor(
    readonly phase: Phase,
    ms: number,
  ) {
    super(`primary: no answer within ${ms} ms`);
  }
}

/** COMMIT was sent and no answer came: the write may or may not have been applied. */
export class CommitUnconfirmedError extends Error {}

interface Pool {
  source: DataSource;
  ready: Promise<DataSource>;
}

/**
 * The data warehouse's primary: the only place writes go. Connected lazily, so the api starts
 * without it, and once: concurrent first writes share one pool.
 */
@Injectable()
export class PrimaryDatabase implements OnModuleDestroy {
  private readonly log = new Logger(PrimaryDatabase.name);
  private pool?: Pool;

  constructor(@Inject(ENV) private readonly env: ApiEnv) {}

  async onModuleDestroy(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    const source = await pool?.ready.catch(() => undefined);
    await source?.destroy().catch(() => undefined);
  }

  /**
   * Runs `work` in one transaction on the primary, bounded by five times DB_TIMEOUT_MS.
   * - 503 when the write cannot have been applied: nothing was sent, or COMMIT never was (after a
   *   timeout, COMMIT is never sent and the connection is dropped, so the server rolls back);
   * - CommitUnconfirmedError when COMMIT was sent but no answer came.
   */
  async transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const source = await this.connect();
    const runner = source.createQueryRunner('master');
    const limitMs = this.env.DB_TIMEOUT_MS * 5;
    let phase: Phase = 'connecting';
    let abandoned = false;

    const attempt = async (): Promise<T> => {
      try {
        await runner.connect();
        phase = 'writing';
        await runner.startTransaction('REPEATABLE READ');
        const result = await work(runner.manager);
        if (abandoned) throw new Error('primary: the write was abandoned before COMMIT');
        phase = 'committing';
        await runner.commitTransaction();
        return result;
      } catch (err) {
        if (!abandoned && runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
        throw err;
      } finally {
        await runner.release();
      }
    };

    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abandoned = true;
        reject(new WriteTimeout(phase, limitMs));
      }, limitMs);
    });
    const running = attempt();
    running.catch(() => undefined);
    try {
      return await Promise.race([running, deadline]);
    } catch (err) {
      const timedOut = err instanceof WriteTimeout;
      if (!timedOut && !isConnectionError(err)) throw err;
      this.forget(source, describeError(err));
      if ((timedOut ? err.phase : phase) === 'committing') {
        throw new CommitUnconfirmedError(
          timedOut ? `the primary database did not confirm the commit within ${limitMs} ms` : `the connection to the primary database was lost during the commit`,
        );
      }
      throw new ServiceUnavailableException(
        timedOut ? `the primary database did not answer within ${limitMs} ms, so the write was not applied; try again` : UNREACHABLE,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private connect(): Promise<DataSource> {
    if (!this.pool) {
      const login = { user: this.env.DB_WRITE_USER, password: this.env.DB_WRITE_PASSWORD, database: this.env.DB_NAME };
      const source = createDataSource(parseHostPort(this.env.DB_WRITE_HOST), login, { timeoutMs: this.env.DB_TIMEOUT_MS, poolSize: 2, tlsCaFile: this.env.DB_TLS_CA });
      this.pool = { source, ready: this.initialize(source) };
    }
    return this.pool.ready;
  }

  private async initialize(source: DataSource): Promise<DataSource> {
    const init = source.initialize();
    try {
      return await withTimeout(init, this.env.DB_TIMEOUT_MS, 'primary');
    } catch (err) {
      this.forget(source, describeError(err));
      // A connection that succeeds after the time limit must not leave its pool behind.
      void init.then(() => source.destroy(), () => undefined).catch(() => undefined);
      throw new ServiceUnavailableException(UNREACHABLE);
    }
  }

  /** Drops the pool: a hung server keeps its sockets busy, the next write starts a fresh one. */
  private forget(source: DataSource, reason: string): void {
    if (this.pool?.source !== source) return;
    this.log.warn(`primary database unreachable: ${reason}`);
    this.pool = undefined;
    if (source.isInitialized) void source.destroy().catch(() => undefined);
  }
}

// Duck-typed: socket errors may come from another realm (a test sandbox), where instanceof fails.
function isConnectionError(err: unknown): boolean {
  const { code } = (err ?? {}) as { code?: unknown };
  return typeof code === 'string' && CONNECTION_ERRORS.has(code);
}
