import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { PrimaryStatusDto } from '@vita/contracts';
import { ENV } from '@vita/runtime';
import type { ReplConfig } from '../config/config';
import { Db } from '../db/db.service';
import { describeError, ident, run, stmt } from '../db/sql';
import { MetricsService } from '../metrics/metrics.service';
import { Loop } from './loop';

/**
 * Writes a timestamp row on the primary every second (repl-admin's clock, so the lag never depends on the
 * servers' clocks). A replica's true lag is now minus the newest heartbeat it has applied.
 */
@Injectable()
export class HeartbeatService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(HeartbeatService.name);
  private readonly loop: Loop;
  private lastWriteAt: string | null = null;
  private error: string | null = null;

  constructor(
    @Inject(ENV) private readonly config: ReplConfig,
    private readonly db: Db,
    private readonly metrics: MetricsService,
  ) {
    this.loop = new Loop(config.env.REPL_HEARTBEAT_INTERVAL_MS, () => this.beat(), (err) => this.logger.error(describeError(err)));
  }

  onApplicationBootstrap(): void {
    this.loop.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.loop.stop();
  }

  status(): PrimaryStatusDto['heartbeat'] {
    return { lastWriteAt: this.lastWriteAt, error: this.error };
  }

  /** One heartbeat; a late write (a stalled primary that wakes up) never moves the timestamp back. */
  async beat(): Promise<void> {
    const now = Date.now();
    const table = `${ident(this.config.env.REPL_HEARTBEAT_SCHEMA)}.heartbeat`;
    try {
      await this.db.with(this.config.servers.primary, 'monitor', (conn) =>
        run(conn, stmt(`INSERT INTO ${table} (server_id, ts_ms) VALUES (@@server_id, ?) ON DUPLICATE KEY UPDATE ts_ms = GREATEST(ts_ms, VALUES(ts_ms))`, now)),
      );
      this.lastWriteAt = new Date(now).toISOString();
      if (this.error) this.logger.log('heartbeat writes succeed again');
      this.error = null;
      this.metrics.heartbeatWrites.inc({ result: 'ok' });
    } catch (err) {
      const message = describeError(err);
      if (message !== this.error) this.logger.warn(`heartbeat write failed: ${message}`);
      this.error = message;
      this.metrics.heartbeatWrites.inc({ result: 'error' });
    }
  }
}
