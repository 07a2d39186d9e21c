import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import type { JsonResume } from '@vita/contracts';
import { ENV } from '@vita/runtime';
import type { WebEnv } from '../config/env';
import { ApiAnswer, ApiPool } from '../upstream/api-pool';
import { StreamListener, StreamState, VersionStream } from '../upstream/version-stream';
import { versionOf } from './version';

/** One version of the document as web holds it; rendered output is memoised on it. */
export interface CachedResume {
  document: JsonResume;
  json: string;
  /** The api's ETag of this version (`"v<n>"`). */
  etag: string;
  version: number;
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
/** Fetch rounds in one refresh: one, plus one per newer version announced while it ran. */
const MAX_ROUNDS = 8;

/**
 * The newest document any api instance has given. It stays current through each instance's
 * version stream (a newer version announced is fetched at once, from the instance that announced
 * it); with no stream open, it is fresh for CACHE_TTL_MS, after which a request has it checked again
 * (a conditional GET). With a copy in hand, a request never waits for an api: it gets the copy and
 * the check runs in the background. One fetch at a time; a version older than the copy is ignored.
 */
@Injectable()
export class ResumeCache implements OnModuleInit, OnModuleDestroy, StreamListener {
  private readonly log = new Logger(ResumeCache.name);
  readonly pool: ApiPool;
  private readonly streams: VersionStream[];
  private openStreams = 0;
  private current?: CachedResume;
  /** The newest version an instance announced, and that instance. */
  private announced?: { version: number; from: string };
  private refreshing?: Promise<void>;
  private lastError?: string;

  constructor(@Inject(ENV) private readonly env: WebEnv) {
    this.pool = new ApiPool(env.apiUrls(), { timeoutMs: env.API_TIMEOUT_MS, retryAfterMs: env.API_RETRY_AFTER_MS });
    const push = env.API_PUSH === 'on' ? env.apiUrls() : [];
    this.streams = push.map((url) => new VersionStream(new URL(url).origin, this, { idleMs: 20_000, maxBackoffMs: 10_000 }));
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

  /** The document while it is fresh (no api needs asking): the synchronous fast path of the routes. */
  fresh(): CachedResume | undefined {
    const cached = this.current;
    if (!cached) return undefined;
    if (this.openStreams > 0) return this.announced && this.announced.version > cached.version ? undefined : cached;
    return Date.now() - cached.checkedAt < this.env.CACHE_TTL_MS ? cached : undefined;
  }

  async read(requestId: string): Promise<ResumeRead> {
    const fresh = this.fresh();
    if (fresh) return { resume: fresh };
    const held = this.current;
    const refresh = this.revalidate(requestId);
    if (held) return this.lastError === undefined ? { resume: held } : { resume: held, staleSeconds: Math.floor((Date.now() - held.checkedAt) / 1000) };
    await refresh;
    if (!this.current) throw new ServiceUnavailableException(`the résumé is not available: ${this.lastError ?? 'no api instance answered'}`);
    return { resume: this.current };
  }

  status(): CacheStatus {
    const held = this.current;
    return {
      cachedDocument: held !== undefined,
      ...(held ? { version: held.version, confirmedSecondsAgo: Math.floor((Date.now() - held.checkedAt) / 1000) } : {}),
      stale: held !== undefined && this.lastError !== undefined,
      ...(this.announced && (!held || this.announced.version > held.version) ? { announced: this.announced.version } : {}),
      push:
        this.env.API_PUSH === 'on'
          ? this.streams.map((s) => ({ url: s.origin, state: s.state, ...(s.lastError ? { lastError: s.lastError } : {}) }))
          : this.env.apiUrls().map((url) => ({ url: new URL(url).origin, state: 'off' as const })),
    };
  }

  version(from: string, version: number): void {
    const held = this.current;
    if (held && version === held.version) held.checkedAt = Date.now();
    if (held && version <= held.version) return;
    if (!this.announced || version > this.announced.version) this.announced = { version, from };
    void this.revalidate(`push-v${version}`);
  }

  alive(): void {
    const held = this.current;
    if (held && this.openStreams > 0 && !(this.announced && this.announced.version > held.version)) held.checkedAt = Date.now();
  }

  changed(from: string, state: StreamState): void {
    const before = this.openStreams;
    this.openStreams = this.streams.filter((s) => s.state === 'open').length;
    if (before > 0 && this.openStreams === 0 && state === 'waiting') {
      // The last stream went away: an announcement may have been missed, and polling takes over.
      this.log.warn(`no version stream open (${from}: ${this.streams.find((s) => s.origin === from)?.lastError}); polling every ${this.env.CACHE_TTL_MS} ms`);
      void this.revalidate('stream-closed');
    }
  }

  /** Starts a refresh unless one runs; either way, the promise of the one running (it never rejects). */
  private revalidate(requestId: string): Promise<void> {
    this.refreshing ??= this.refresh(requestId).finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async refresh(requestId: string): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const target = this.wanted();
      try {
        this.apply(await this.fetch(requestId, target?.from));
        this.lastError = undefined;
      } catch (err) {
        this.lastError = (err as Error).message;
        this.log.warn(`the résumé could not be refreshed: ${this.lastError}`);
        return;
      }
      const next = this.wanted();
      if (!next || next === target) return;
    }
  }

  /** The announced version, while it is newer than the copy. */
  private wanted(): { version: number; from: string } | undefined {
    return this.announced && this.announced.version > (this.current?.version ?? -1) ? this.announced : undefined;
  }

  /** From the instance that announced a newer version, else (or when it fails) from the pool. */
  private async fetch(requestId: string, from?: string): Promise<ApiAnswer> {
    const etag = this.current?.etag;
    if (from) {
      try {
        return await this.pool.getFrom(from, RESUME_PATH, requestId, etag);
      } catch (err) {
        this.log.warn(`fetching the announced version failed: ${(err as Error).message}`);
      }
    }
    return this.pool.get(RESUME_PATH, requestId, etag);
  }

  private apply(answer: ApiAnswer): void {
    const held = this.current;
    const now = Date.now();
    if (answer.status === 304) {
      if (!held) throw new Error(`${answer.from} answered 304 to an unconditional request`);
      held.checkedAt = now;
      return;
    }
    const version = versionOf(answer.etag);
    if (version === undefined) throw new Error(`${answer.from} answered without a "v<n>" ETag`);
    if (held && version < held.version) {
      this.log.warn(`${answer.from} serves v${version}, older than v${held.version} held here: ignored`);
      return;
    }
    if (held && version === held.version) {
      held.checkedAt = now;
      return;
    }
    const document = JSON.parse(answer.body) as JsonResume;
    this.log.log(`résumé v${version} from ${answer.from}`);
    this.current = { document, json: answer.body, etag: answer.etag as string, version, checkedAt: now, memo: new Map() };
  }
}
