import { Agent, request } from 'node:http';

const MIB = 1024 * 1024;
/** An api accepts a document of at most 1 MiB; an answer far beyond that is a fault, never held in memory. */
export const MAX_BODY_BYTES = 8 * MIB;

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

export interface GetOptions<T> {
  ifNoneMatch?: string;
  /** The origin of the instance to ask first (while its circuit is closed). */
  prefer?: string;
  /** Judges an answer and gives what the caller keeps of it; throws to reject it. */
  accept: (answer: ApiAnswer) => T;
}

export interface PoolOptions {
  timeoutMs: number;
  retryAfterMs: number;
}

/**
 * Every api instance of the content node, in order of preference. A call tries them in turn with a
 * per-call timeout; an instance that fails (no answer in time, an error status, or an answer the
 * caller rejects) is skipped for `retryAfterMs` (unless every instance is failing, when all are
 * tried anyway). Connections are kept alive.
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

  /**
   * GET `path` from the first instance whose answer (200 or 304) `accept` takes; rejects when none
   * does. Each instance is asked at most once, those whose circuit is open not at all (unless every
   * circuit is open); `prefer` is asked first when it is among them. An answer `accept` throws on
   * is that instance's failure, like a timeout: its circuit opens and the next instance is asked.
   */
  async get<T>(path: string, requestId: string, options: GetOptions<T>): Promise<T> {
    const failures: string[] = [];
    for (const instance of this.order(options.prefer)) {
      try {
        return await this.attempt(instance, path, requestId, options);
      } catch (err) {
        failures.push(`${instance.url.origin}: ${(err as Error).message}`);
      }
    }
    throw new Error(`no api instance answered (${failures.join('; ')})`);
  }

  /** The instances to ask, in turn: those with a closed circuit (all, when none is), `prefer` first. */
  private order(prefer?: string): Instance[] {
    const now = Date.now();
    const closed = this.instances.filter((i) => i.openUntil <= now);
    const order = closed.length > 0 ? closed : this.instances;
    const first = order.find((i) => i.url.origin === prefer);
    return first ? [first, ...order.filter((i) => i !== first)] : order;
  }

  /** One call and the judgement of its answer; the outcome (a timeout or a rejected answer is a failure) opens or closes the instance's circuit. */
  private async attempt<T>(instance: Instance, path: string, requestId: string, options: GetOptions<T>): Promise<T> {
    try {
      const taken = options.accept(await this.call(instance, path, requestId, options.ifNoneMatch));
      instance.openUntil = 0;
      instance.lastError = undefined;
      this.lastSuccessAt = Date.now();
      return taken;
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
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_BODY_BYTES) req.destroy(new Error(`answered more than ${MAX_BODY_BYTES / MIB} MiB`));
            else chunks.push(c);
          });
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
