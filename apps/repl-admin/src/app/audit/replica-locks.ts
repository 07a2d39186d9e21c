import { Injectable } from '@nestjs/common';

/** One action at a time per replica, manual or automatic. */
@Injectable()
export class ReplicaLocks {
  private readonly held = new Map<string, string>();

  /** Runs `work` holding the replica's lock; undefined (work not run) when another action holds it. */
  async tryRun<T>(replica: string, what: string, work: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false; holder: string }> {
    const holder = this.held.get(replica);
    if (holder) return { ran: false, holder };
    this.held.set(replica, what);
    try {
      return { ran: true, value: await work() };
    } finally {
      this.held.delete(replica);
    }
  }

  isHeld(replica: string): boolean {
    return this.held.has(replica);
  }
}
