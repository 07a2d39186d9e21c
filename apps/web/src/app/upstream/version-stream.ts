import { ClientRequest, IncomingMessage, request } from 'node:http';
import { backoffDelay, nextAttempt, SseParser, versionOfEvent } from './sse';

/** Where a subscription stands: connecting (or waiting to), open, or closed for good. */
export type StreamState = 'connecting' | 'open' | 'waiting' | 'closed';

export interface StreamListener {
  /** The instance at `from` serves `version` now. */
  version(from: string, version: number): void;
  /** The stream answered (any event or keep-alive): the instance is alive and would have announced a change. */
  alive(from: string): void;
  /** The stream opened or closed. */
  changed(from: string, state: StreamState): void;
}

export interface StreamOptions {
  /** The stream is dropped after this long without a byte (the api sends a keep-alive every 15 s). */
  idleMs: number;
  /** Longest wait between reconnection attempts. */
  maxBackoffMs: number;
  /**
   * A connection counts as having worked once it stayed open this long: only then does the wait
   * before the next attempt start again from the stream's `retry:`. One that opens and drops sooner
   * (an api that answers the stream and closes it at once) keeps doubling the wait.
   */
  stableMs: number;
}

export const STREAM_PATH = '/api/v1/versions';
const DEFAULT_RETRY_MS = 1000;

/**
 * A subscription to one api instance's version stream (`GET /api/v1/versions`, server-sent events).
 * When it drops, or cannot be opened, it is tried again after a growing delay (from the stream's
 * `retry:` value up to `maxBackoffMs`; back to the start only after a connection stayed open
 * `stableMs`), until closed. A line or an event larger than the parser's limits drops it.
 */
export class VersionStream {
  state: StreamState = 'connecting';
  lastError?: string;
  private readonly url: URL;
  /** When the next connection attempt is due, while waiting for it. */
  nextAttemptAt?: number;
  private attempt = 0;
  private retryMs = DEFAULT_RETRY_MS;
  /** When the current connection opened (answered 200 with the event stream). */
  private openedAt?: number;
  private req?: ClientRequest;
  private reconnect?: NodeJS.Timeout;
  private idle?: NodeJS.Timeout;

  constructor(
    readonly origin: string,
    private readonly listener: StreamListener,
    private readonly options: StreamOptions,
  ) {
    this.url = new URL(STREAM_PATH, origin);
  }

  start(): void {
    if (this.state === 'closed') return;
    this.nextAttemptAt = undefined;
    this.openedAt = undefined;
    this.setState('connecting');
    const req = request(this.url, { agent: false, headers: { accept: 'text/event-stream', 'cache-control': 'no-store' } }, (res) => this.opened(req, res));
    this.req = req;
    this.armIdle(req);
    req.on('error', (err) => this.dropped(req, err.message));
    req.end();
  }

  close(): void {
    this.setState('closed');
    clearTimeout(this.reconnect);
    clearTimeout(this.idle);
    this.req?.destroy();
    this.req = undefined;
  }

  private opened(req: ClientRequest, res: IncomingMessage): void {
    const type = String(res.headers['content-type'] ?? '');
    if (res.statusCode !== 200 || !type.startsWith('text/event-stream')) {
      res.resume();
      return this.dropped(req, `answered ${res.statusCode}${res.statusCode === 200 ? ` with ${type || 'no content type'}` : ''}`);
    }
    this.openedAt = Date.now();
    this.lastError = undefined;
    this.setState('open');
    const parser = new SseParser();
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (this.req !== req) return;
      this.armIdle(req);
      try {
        for (const message of parser.push(chunk)) {
          if (message.kind === 'retry') this.retryMs = Math.min(Math.max(message.ms, 100), this.options.maxBackoffMs);
          else if (message.kind === 'event' && message.event === 'version') {
            const version = versionOfEvent(message.data);
            if (version !== undefined) this.listener.version(this.origin, version);
          }
        }
      } catch (err) {
        return this.dropped(req, (err as Error).message);
      }
      this.listener.alive(this.origin);
    });
    res.on('end', () => this.dropped(req, 'the stream ended'));
    res.on('error', (err) => this.dropped(req, err.message));
    res.on('close', () => this.dropped(req, 'the stream closed'));
  }

  /** Ends this connection (once) and schedules the next attempt. */
  private dropped(req: ClientRequest, reason: string): void {
    if (this.req !== req || this.state === 'closed') return;
    this.req = undefined;
    clearTimeout(this.idle);
    req.destroy();
    this.lastError = reason;
    const now = Date.now();
    const attempt = nextAttempt(this.attempt, this.openedAt === undefined ? undefined : now - this.openedAt, this.options.stableMs);
    this.attempt = attempt + 1;
    const delay = backoffDelay(attempt, this.retryMs, this.options.maxBackoffMs);
    this.nextAttemptAt = now + delay;
    this.setState('waiting');
    this.reconnect = setTimeout(() => this.start(), delay);
    this.reconnect.unref();
  }

  private armIdle(req: ClientRequest): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.dropped(req, `nothing received for ${this.options.idleMs} ms`), this.options.idleMs);
    this.idle.unref();
  }

  private setState(state: StreamState): void {
    if (this.state === state) return;
    this.state = state;
    this.listener.changed(this.origin, state);
  }
}
