import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ActionRecordDto } from '@vita/contracts';
import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { ENV } from '@vita/runtime';
import type { ReplConfig } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';

const KEEP = 200;

export type NewRecord = Omit<ActionRecordDto, 'id' | 'at'>;

/**
 * The audit log: every action, manual or automatic, refused, dry-run or run, with its reason and exact
 * statements. Kept in memory (newest 200), logged, appended to REPL_AUDIT_LOG when set, and counted.
 */
@Injectable()
export class AuditService {
  private readonly logger = new Logger('audit');
  private readonly records: ActionRecordDto[] = [];
  private writes: Promise<void> = Promise.resolve();

  constructor(
    @Inject(ENV) private readonly config: ReplConfig,
    private readonly metrics: MetricsService,
  ) {}

  record(entry: NewRecord): ActionRecordDto {
    const full: ActionRecordDto = { id: randomUUID(), at: new Date().toISOString(), ...entry };
    this.records.unshift(full);
    this.records.length = Math.min(this.records.length, KEEP);
    this.metrics.countAction(full);
    const line = `${full.mode} ${full.action} on ${full.replica}: ${full.outcome} — ${full.message} (reason: ${full.reason})`;
    if (full.outcome === 'failed') this.logger.error(line);
    else this.logger.log(line);
    const file = this.config.env.REPL_AUDIT_LOG;
    if (file) {
      this.writes = this.writes
        .then(() => appendFile(file, `${JSON.stringify(full)}\n`, { mode: 0o600 }))
        .catch((err: Error) => this.logger.error(`cannot append to the audit log file: ${err.message}`));
    }
    return full;
  }

  /** Newest first. */
  list(limit = KEEP, replica?: string): ActionRecordDto[] {
    return this.records.filter((r) => !replica || r.replica === replica).slice(0, limit);
  }

  /** Resolves once every queued audit-file append has been written. */
  flushed(): Promise<void> {
    return this.writes;
  }
}
