import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';

/** One operator action, taken or refused. */
export interface DnsAuditRecord {
  id: string;
  at: string;
  action: 'drain' | 'undrain';
  node: string;
  reason: string;
  /** accepted: recorded before it takes effect; done: with what the providers did; refused; superseded: another controller's action on the node, taken at the same moment, won. */
  outcome: 'accepted' | 'done' | 'refused' | 'superseded';
  message: string;
  /** The vantage point (controller) the action was taken on. */
  by: string;
}

const KEEP = 200;

/** Every drain and undrain, newest first: in memory (the newest 200), logged, and appended to DNS_AUDIT_LOG when set. */
export class DnsAudit {
  private readonly records: DnsAuditRecord[] = [];
  private writes: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string | undefined,
    private readonly log: { info(line: string): void; error(line: string): void },
  ) {}

  record(entry: Omit<DnsAuditRecord, 'id' | 'at'>): DnsAuditRecord {
    const full: DnsAuditRecord = { id: randomUUID(), at: new Date().toISOString(), ...entry };
    this.records.unshift(full);
    this.records.length = Math.min(this.records.length, KEEP);
    this.log.info(`${full.action} ${full.node}: ${full.outcome} — ${full.message} (reason: ${full.reason})`);
    const file = this.file;
    if (file) {
      this.writes = this.writes
        .then(() => appendFile(file, `${JSON.stringify(full)}\n`, { mode: 0o600 }))
        .catch((err: Error) => this.log.error(`cannot append to the audit log file: ${err.message}`));
    }
    return full;
  }

  list(limit = KEEP): DnsAuditRecord[] {
    return this.records.slice(0, limit);
  }

  flushed(): Promise<void> {
    return this.writes;
  }
}
