import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import type { JsonResume } from '@vita/contracts';
import { ENV } from '@vita/runtime';
import type { WebEnv } from '../config/env';
import { ApiPool } from '../upstream/api-pool';
import { StreamListener, StreamState, VersionStream } from '../upstream/version-stream';
import { Announcements } from './announcements';
import { judgeAnswer, Verdict } from './answer';

/** One version of the document as web holds it; rendered output is memoised on it. */
export interface CachedResume {
  document: JsonResume;
  json: string;
  /** web's ETag of the JSON: `"v<n>"`, or a hash of the body for an unversioned document. */
  etag: string;
  /** Undefined for an unversioned document (an api answer without a `"v<n>"` ETag, taken while nothing versioned was held). */
  version?: number;
  /** The api's ETag as it came (`"v<n>"` or `W/"v<n>"`), for conditional GETs; undefined when unversioned. */
  ifNoneMatch?: string;
  /** Last time an api confirmed this is the current version. */
  checkedAt: number;
  memo: Map<string, unknown>;
}

export interface ResumeRead {
  resume: CachedResume;
  /** Seconds since an api last confirmed the document, when the last attempt to confirm it found no api answering. */
  staleSeconds?: number;
}

/** What readiness reports about the copy and the ways web keeps it current. */
export interface CacheStatus {
  cachedDocument: boolean;
  /** The copy's version; absent for an unversioned copy. */
  version?: number;
  /** Seconds since an api confirmed the copy. */
  confirmedSecondsAgo?: number;
  /** The last attempt to confirm the copy found no api answering. */
  stale: boolean;
  /** A newer version announced by an api and not yet fetched. */
  announced?: number;
  push: { url: string; state: StreamState | 'off'; lastError?: string }[];
}

const RESUME_PATH = '/api/v1/resume';
/** Fetch rounds in one refresh: one, plus one per newer version announced (by an instance followed at once) while it ran. */
const MAX_ROUNDS = 8;
/** An announced version that no fetch has brought is forgotten after this long. */
export const ANNOUNCEMENT_EXPIRES_MS = 10_000;
/** A version stream counts as working (its reconnection backoff starts again) once open this long. */
export const STREAM_STABLE_MS = 5000;

/**
 * The newest document any api instance has given. It stays current through each instance's
 * version stream: a newer version announced is fetched at once (once per announcement), from the
 * instance that announced it first. The copy is also checked (a conditional GET, usually a 304)
 * when a request finds the last check older than PUSH_CHECK_MS while a stream is open, or older
 * than CACHE_TTL_MS while none is. With a copy in hand, a request never waits for an api: it gets
 * the copy and the check runs in the background. Without one, a request waits until the first
 * answer (each instance asked once, API_TIMEOUT_MS each); later rounds run in the background.
 * One fetch at a time; a version older than the copy is ignored.
 */
@Injectable()
export class ResumeCache implements OnModuleInit, OnModuleDestroy, StreamListener {
  private readonly log = new Logger(ResumeCache.name);
  readonly pool: ApiPool;
  private readonly streams: VersionStream[];
  private readonly announcements: Announcements;
  private openStreams = 0;
  private current?: CachedResume;
  private refreshing?: Promise<void>;
  private lastError?: string;
  /** When the last check of the copy ended (successful or not). */
  private lastCheckAt = 0;
  /** A stream drop starts a check only from then on (once per reconnection backoff). */
  private dropCheckFrom = 0;
  private readonly firstCopy: Promise<void>;
  private gotFirstCopy!: () => void;

  constructor(@Inject(ENV) private readonly env: WebEnv) {
    this.pool = new ApiPool(env.apiUrls(), { timeoutMs: env.API_TIMEOUT_MS, retryAfterMs: env.API_RETRY_AFTER_MS });
    const push = env.API_PUSH === 'on' ? env.apiUrls() : [];
    this.streams = push.map((url) => new VersionStream(new URL(url).origin, this, { idleMs: 20_000, maxBackoffMs: 10_000, stableMs: STREAM_STABLE_MS }));
    this.announcements = new Announcements({ expireMs: ANNOUNCEMENT_EXPIRES_MS, distrustMs: Math.max(env.PUSH_CHECK_MS, env.API_RETRY_AFTER_MS) });
    this.firstCopy = new Promise((resolve) => (this.gotFirstCopy = resolve));
  }

  onModuleInit(): void {
    this.streams.forEach((s) => s.start());
  }

  onModuleDestroy(): void {
    this.streams.forEach((s) => s.close());
    this.pool.close();
  }

  get hasDocument(): boolean {
    return this.current !== undefined;
  }

  /** The document while it is fresh (no check is due and the last one succeeded): the synchronous fast path of the routes. */
  fresh(): CachedResume | undefined {
    const held = this.current;
    return held && this.lastError === undefined && !this.checkDue(Date.now()) ? held : undefined;
  }

  async read(requestId: string): Promise<ResumeRead> {
    const held = this.current;
    if (held) {
      if (this.checkDue(Date.now())) void this.revalidate(requestId);
      return this.lastError === undefined ? { resume: held } : { resume: held, staleSeconds: Math.floor((Date.now() - held.checkedAt) / 1000) };
    }
    // Until the first copy is in hand, not a moment longer: later rounds of the refresh go on in the background.
    await Promise.race([this.revalidate(requestId), this.firstCopy]);
    if (!this.current) throw new ServiceUnavailableException(`the résumé is not available: ${this.lastError ?? 'no api instance answered'}`);
    return { resume: this.current };
  }

  status(): CacheStatus {
    const held = this.current;
    const announced = this.announcements.wanted(held?.version, Date.now());
    return {
      cachedDocument: held !== undefined,
      ...(held?.version !== undefined ? { version: held.version } : {}),
      ...(held ? { confirmedSecondsAgo: Math.floor((Date.now() - held.checkedAt) / 1000) } : {}),
      stale: held !== undefined && this.lastError !== undefined,
      ...(announced ? { announced: announced.version } : {}),
      push:
        this.env.API_PUSH === 'on'
          ? this.streams.map((s) => ({ url: s.origin, state: s.state, ...(s.lastError ? { lastError: s.lastError } : {}) }))
          : this.env.apiUrls().map((url) => ({ url: new URL(url).origin, state: 'off' as const })),
    };
  }

  version(from: string, version: number): void {
    const held = this.current;
    const now = Date.now();
    if (held && version === held.version) held.checkedAt = now;
    if (this.announcements.heard(from, version, held?.version, now)) void this.revalidate(`push-v${version}`);
  }

  alive(): void {
    const held = this.current;
    const now = Date.now();
    if (held && this.openStreams > 0 && !this.announcements.wanted(held.version, now)) held.checkedAt = now;
  }

  changed(from: string, state: StreamState): void {
    // What a stream announced stands only while that connection lasts.
    if (state !== 'open') this.announcements.forget(from);
    const before = this.openStreams;
    this.openStreams = this.streams.filter((s) => s.state === 'open').length;
    if (before > 0 && this.openStreams === 0 && state === 'waiting') {
      // The last stream went away: an announcement may have been missed, and polling takes over.
      const stream = this.streams.find((s) => s.origin === from);
      const now = Date.now();
      this.log.warn(`no version stream open (${from}: ${stream?.lastError}); polling every ${this.env.CACHE_TTL_MS} ms`);
      if (now >= this.dropCheckFrom) {
        this.dropCheckFrom = stream?.nextAttemptAt ?? now;
        void this.revalidate('stream-closed');
      }
    }
  }

  /** Whether the copy is due a check: its last check is older than PUSH_CHECK_MS (a stream open) or CACHE_TTL_MS (none). */
  private checkDue(now: number): boolean {
    return now - this.lastCheckAt >= (this.openStreams > 0 ? this.env.PUSH_CHECK_MS : this.env.CACHE_TTL_MS);
  }

  /** Starts a refresh unless one runs; either way, the promise of the one running (it never rejects). */
  private revalidate(requestId: string): Promise<void> {
    this.refreshing ??= this.refresh(requestId).finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** One check, then one more for each newer version announced meanwhile (at most MAX_ROUNDS in all). */
  private async refresh(requestId: string): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const target = this.announcements.take(this.current?.version, Date.now());
      try {
        const held = this.current;
        const { verdict, from } = await this.pool.get(RESUME_PATH, requestId, {
          ifNoneMatch: held?.ifNoneMatch,
          prefer: target?.from,
          accept: (answer) => ({ verdict: judgeAnswer(answer, held), from: answer.from }),
        });
        this.apply(verdict, from);
        this.lastError = undefined;
      } catch (err) {
        this.lastError = (err as Error).message;
        this.log.warn(`the résumé could not be refreshed: ${this.lastError}`);
      }
      this.lastCheckAt = Date.now();
      this.announcements.settled(this.current?.version, this.lastCheckAt);
      if (this.lastError !== undefined || !this.announcements.due(this.current?.version, this.lastCheckAt)) return;
    }
  }

  private apply(verdict: Verdict, from: string): void {
    const held = this.current;
    const now = Date.now();
    if (verdict.kind === 'confirmed') {
      if (held) held.checkedAt = now;
      return;
    }
    if (verdict.kind === 'older') {
      this.log.warn(`${from} serves v${verdict.version}, older than v${held?.version} held here: ignored`);
      return;
    }
    const { taken } = verdict;
    this.log.log(`résumé ${taken.version === undefined ? 'without a version (no "v<n>" ETag)' : `v${taken.version}`} from ${from}`);
    this.current = { ...taken, checkedAt: now, memo: new Map() };
    this.gotFirstCopy();
  }
}
