import { accessSync, closeSync, constants, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { DrainRecord } from '../model';
import { mergeDrains } from '../policy/decide';
import { MAX_SEQ, parseView } from '../peers/view';

/** What a merge did. */
export interface MergeResult {
  changed: boolean;
  /** The change is in force but could not be saved to DNS_STATE_FILE (it is kept in memory). */
  saveError: string | null;
}

/**
 * The drain state of the configured nodes: this controller's operators' actions and those learned from
 * its peers, the newest per node winning (records of other nodes are ignored). Kept in DNS_STATE_FILE
 * when set: written whole to a temporary file, flushed to disk and renamed, so a crash leaves the old
 * state or the new one, never half of one. A failed save leaves the change in force, and says so.
 */
export class DrainStore {
  private records = new Map<string, DrainRecord>();
  private readonly nodes: ReadonlySet<string>;

  constructor(
    private readonly file: string | undefined,
    nodes: readonly string[],
  ) {
    this.nodes = new Set(nodes);
    if (!file) return;
    try {
      accessSync(dirname(file), constants.W_OK);
    } catch (err) {
      throw new Error(`DNS_STATE_FILE ${file}: its folder cannot be written (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (!existsSync(file)) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`DNS_STATE_FILE ${file}: not valid JSON (${(err as Error).message.split('\n')[0]}); fix or remove it`);
    }
    try {
      // The same checks as a peer's view, so a hand-edited file is held to the same rules.
      const drains = parseView({ vantage: 'state', at: new Date().toISOString(), rounds: 0, endpoints: [], drains: (parsed as { drains?: unknown })?.drains }).drains;
      this.records = mergeDrains([drains.filter((d) => this.nodes.has(d.node))]);
    } catch (err) {
      throw new Error(`DNS_STATE_FILE ${file}: ${(err as Error).message}`);
    }
  }

  all(): DrainRecord[] {
    return [...this.records.values()].sort((a, b) => a.node.localeCompare(b.node));
  }

  get(node: string): DrainRecord | undefined {
    return this.records.get(node);
  }

  /** The seq a new action on `node` takes: one more than the highest known. */
  nextSeq(node: string): number {
    // Never past what a view may carry: at the cap, the later time decides between equal seqs.
    return Math.min((this.records.get(node)?.seq ?? 0) + 1, MAX_SEQ);
  }

  /** Takes in records (an operator's action, a peer's state) for configured nodes; the newest per node wins. */
  merge(records: readonly DrainRecord[]): MergeResult {
    const next = mergeDrains([this.all(), records.filter((r) => this.nodes.has(r.node))]);
    const changed = [...next].some(([node, r]) => JSON.stringify(this.records.get(node)) !== JSON.stringify(r));
    if (!changed) return { changed: false, saveError: null };
    this.records = next;
    return { changed: true, saveError: this.save() };
  }

  /** Writes the state file; the error, one line, when it cannot. */
  private save(): string | null {
    if (!this.file) return null;
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, `${JSON.stringify({ drains: this.all() }, null, 2)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.file);
      return null;
    } catch (err) {
      return `DNS_STATE_FILE ${this.file} cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
  }
}
