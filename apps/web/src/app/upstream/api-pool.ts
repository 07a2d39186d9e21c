import { Agent, request } from 'node:http';

export interface ApiAnswer {
  status: 200 | 304;
  etag: string | null;
  body: string;
  /** The instance that answered. */
  from: string;
}

interface Instance {
  url: URL;
  /** Skipped until then, after a failure (circuit breaker). */
  openUntil: number;
  lastError?: string;
}

export interface PoolOptions {
  timeoutMs: number;
  retryAfterMs: number;
}

/**
 * Every api instance of the content node, in order of preference. A call tries them in turn with a
 * per-call timeout; an instance that fails is skipped for `retryAfterMs` (unless every instance is
 * failing, when all are tried anyway). Connections are kept alive.
 */
export class ApiPool {
  private readonly instances: Instance[];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32, maxFreeSockets: 8, timeout: 30_000 });
  /** When an instance last answered, for readiness. */
  lastSuccessAt = 0;

  constructor(
    urls: string[],
    private readonly options: PoolOptions,
  ) {
    this.instances = urls.map((u) => ({ url: new URL(u), openUntil: 0 }));
  }

  status(): { url: string; available: boolean; lastError?: string }[] {
    const now = Date.now();
    return this.instances.map((i) => ({ url: i.url.origin, available: i.openUntil <= now, ...(i.lastError ? { lastError: i.lastError } : {}) }));
  }

  /** GET `path` from the first instance that answers 200 or 304; rejects when none does. */
  async get(path: string, requestId: string, ifNoneMatch?: string): Promise<ApiAnswer> {
    const now = Date.now();
    const closed = this.instances.filter((i) => i.openUntil <= now);
    const order = closed.length > 0 ? closed : this.instances;
    const failures: string[] = [];
    for (const instance of order) {
      try {
        return await this.attempt(instance, path, requestId, ifNoneMatch);
      } catch (err) {
        failures.push(`${instance.url.origin}: ${(err as Error).message}`);
      }
    }
    throw new Error(`no api instance answered (${failures.join('; ')})`);
  }

  /** GET `path` from the instance at `origin` (one of the pool's), whatever its circuit's state. */
  async getFrom(origin: string, path: string, requestId: string, ifNoneMatch?: string): Promise<ApiAnswer> {
    const instance = this.instances.find((i) => i.url.origin === origin);
    if (!instance) throw new Error(`${origin} is not one of API_URLS`);
    try {
      return await this.attempt(instance, path, requestId, ifNoneMatch);
    } catch (err) {
      throw new Error(`${origin}: ${(err as Error).message}`);
    }
  }

  /** One call; its outcome (a timeout is a failure) opens or closes the instance's circuit. */
  private async attempt(instance: Instance, path: string, requestId: string, ifNoneMatch?: string): Promise<ApiAnswer> {
    try {
      const answer = await this.call(instance, path, requestId, ifNoneMatch);
      instance.openUntil = 0;
      instance.lastError = undefined;
      this.lastSuccessAt = Date.now();
      return answer;
    } catch (err) {
      instance.lastError = err instanceof Error ? err.message : String(err);
      instance.openUntil = Date.now() + this.options.retryAfterMs;
      throw err;
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private call(instance: Instance, path: string, requestId: string, ifNoneMatch?: string): Promise<ApiAnswer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/json', 'x-request-id': requestId };
      if (ifNoneMatch) headers['if-none-match'] = ifNoneMatch;
      const req = request(
        { host: instance.url.hostname, port: instance.url.port, path, agent: this.agent, headers, timeout: this.options.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            clearTimeout(deadline);
            const status = res.statusCode ?? 0;
            if (status !== 200 && status !== 304) return reject(new Error(`answered ${status}`));
            const etag = typeof res.headers.etag === 'string' ? res.headers.etag : null;
            resolve({ status, etag, body: Buffer.concat(chunks).toString('utf8'), from: instance.url.origin });
          });
        },
      );
      // The socket timeout covers silence; this covers a slow trickle too.
      const deadline = setTimeout(() => req.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)));
      req.on('error', (err) => {
        clearTimeout(deadline);
        reject(err);
      });
      req.end();
    });
  }
}
