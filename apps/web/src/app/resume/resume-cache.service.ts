import { Inject, Injectable, Logger, OnModuleDestroy, ServiceUnavailableException } from '@nestjs/common';
import type { JsonResume } from '@vita/contracts';
import { ENV } from '@vita/runtime';
import type { WebEnv } from '../config/env';
import { ApiPool } from '../upstream/api-pool';

/** One version of the document as web holds it; rendered output is memoised on it. */
export interface CachedResume {
  document: JsonResume;
  json: string;
  /** The api's ETag of this version. */
  etag: string | null;
  /** Last time an api confirmed this is the current version. */
  checkedAt: number;
  memo: Map<string, unknown>;
}

export interface ResumeRead {
  resume: CachedResume;
  /** Seconds since an api last confirmed the document, when no api answers now. */
  staleSeconds?: number;
}

/**
 * The last good document, fresh for CACHE_TTL_MS; after that the next request asks an api (one call
 * at a time, conditional on the ETag). When no api answers, the last good document is served stale.
 */
@Injectable()
export class ResumeCache implements OnModuleDestroy {
  private readonly log = new Logger(ResumeCache.name);
  readonly pool: ApiPool;
  private current?: CachedResume;
  private refreshing?: Promise<void>;

  constructor(@Inject(ENV) private readonly env: WebEnv) {
    this.pool = new ApiPool(env.apiUrls(), { timeoutMs: env.API_TIMEOUT_MS, retryAfterMs: env.API_RETRY_AFTER_MS });
  }

  onModuleDestroy(): void {
    this.pool.close();
  }

  get hasDocument(): boolean {
    return this.current !== undefined;
  }

  /** The document while it is fresh (no api needs asking): the synchronous fast path of the routes. */
  fresh(): CachedResume | undefined {
    const cached = this.current;
    return cached && Date.now() - cached.checkedAt < this.env.CACHE_TTL_MS ? cached : undefined;
  }

  async read(requestId: string): Promise<ResumeRead> {
    const cached = this.fresh();
    if (cached) return { resume: cached };
    this.refreshing ??= this.refresh(requestId).finally(() => (this.refreshing = undefined));
    try {
      await this.refreshing;
    } catch (err) {
      if (!this.current) throw new ServiceUnavailableException(`the résumé is not available: ${(err as Error).message}`);
      return { resume: this.current, staleSeconds: Math.floor((Date.now() - this.current.checkedAt) / 1000) };
    }
    return { resume: this.current as CachedResume };
  }

  private async refresh(requestId: string): Promise<void> {
    const answer = await this.pool.get('/api/v1/resume', requestId, this.current?.etag ?? undefined);
    if (answer.status === 304 && this.current) {
      this.current.checkedAt = Date.now();
      return;
    }
    const document = JSON.parse(answer.body) as JsonResume;
    if (this.current?.etag !== answer.etag) this.log.log(`résumé ${answer.etag ?? '(no etag)'} from ${answer.from}`);
    this.current = { document, json: answer.body, etag: answer.etag, checkedAt: Date.now(), memo: new Map() };
  }
}
