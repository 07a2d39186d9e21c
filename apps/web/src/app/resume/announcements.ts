/** A version an api instance announced on its stream, newer than the copy when it was heard. */
export interface Announcement {
  version: number;
  /** The origin of the instance that announced it. */
  from: string;
  at: number;
  /** A fetch has been made for it (an announcement brings one immediate fetch at most). */
  fetched: boolean;
}

export interface AnnouncementOptions {
  /** An announcement that no fetch has reached is forgotten after this long. */
  expireMs: number;
  /** An instance whose announced version its fetch did not bring is not followed at once for this long. */
  distrustMs: number;
}

/**
 * What the version streams have announced, and whether that calls for a fetch now. The rules:
 * - an announcement newer than the copy (and than any pending one) brings one immediate fetch,
 *   coalesced with a fetch already running; announcements no newer than one pending bring none,
 *   except an equal one from another instance once the pending one was fetched or is in doubt;
 * - once fetched, it never brings another: later checks follow the usual schedule;
 * - it is forgotten when the copy reaches it, when the instance that announced it announces a lower
 *   version or its stream drops or reopens, or `expireMs` after it was heard;
 * - an instance whose announcement its fetch did not bring (the version no api gave) is not
 *   followed at once for `distrustMs`: its announcements are kept, for the next scheduled check.
 * `held` is the copy's version, undefined when there is none or it is unversioned.
 */
export class Announcements {
  private pending?: Announcement;
  private readonly distrustedUntil = new Map<string, number>();

  constructor(private readonly options: AnnouncementOptions) {}

  /** The instance at `from` serves `version`: true when that calls for a fetch now. */
  heard(from: string, version: number, held: number | undefined, now: number): boolean {
    this.expire(now);
    if (this.pending?.from === from && version < this.pending.version) this.pending = undefined;
    if (held !== undefined && version <= held) return false;
    const pending = this.pending;
    if (pending) {
      const newer = version > pending.version;
      // The same version from a second instance, when the first one's claim is in doubt.
      const seconded = version === pending.version && from !== pending.from && (pending.fetched || this.distrusted(pending.from, now));
      if (!newer && !seconded) return false;
    }
    this.pending = { version, from, at: now, fetched: false };
    return !this.distrusted(from, now);
  }

  /** The announcement a check starting now should go after (ask its instance first); marked as fetched. */
  take(held: number | undefined, now: number): Announcement | undefined {
    const wanted = this.wanted(held, now);
    if (wanted) wanted.fetched = true;
    return wanted;
  }

  /** After a check: forgets what the copy reached, and distrusts the instance whose announcement it did not bring. */
  settled(held: number | undefined, now: number): void {
    const wanted = this.wanted(held, now);
    if (!wanted) this.pending = undefined;
    else if (wanted.fetched) this.distrustedUntil.set(wanted.from, now + this.options.distrustMs);
  }

  /** True when an announcement not fetched yet, from an instance followed at once, waits: another check now. */
  due(held: number | undefined, now: number): boolean {
    const wanted = this.wanted(held, now);
    return wanted !== undefined && !wanted.fetched && !this.distrusted(wanted.from, now);
  }

  /** The stream of `from` dropped or reopened: what it announced no longer stands. */
  forget(from: string): void {
    if (this.pending?.from === from) this.pending = undefined;
  }

  /** The pending announcement, while it is newer than the copy. */
  wanted(held: number | undefined, now: number): Announcement | undefined {
    this.expire(now);
    return this.pending && (held === undefined || this.pending.version > held) ? this.pending : undefined;
  }

  private distrusted(from: string, now: number): boolean {
    return (this.distrustedUntil.get(from) ?? 0) > now;
  }

  private expire(now: number): void {
    if (this.pending && now - this.pending.at >= this.options.expireMs) this.pending = undefined;
  }
}
