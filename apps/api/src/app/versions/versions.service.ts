import { BeforeApplicationShutdown, Inject, Injectable, OnModuleDestroy, OnModuleInit, ServiceUnavailableException } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { ENV } from '@vita/runtime';
import type { ApiEnv } from '../config/env';
import { ReadDatabases } from '../db/read-databases.service';
import { KEEP_ALIVE_FRAME, RETRY_FRAME, versionFrame } from './versions.frames';

/** The response headers of a version stream (and of a HEAD request for one). */
export const STREAM_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-accel-buffering': 'no' } as const;

/**
 * The open version streams of this api instance. One listener on the read databases feeds them
 * all, so the database cost is per instance, never per subscriber. A subscriber whose socket buffer
 * is full is dropped rather than waited for.
 */
@Injectable()
export class VersionStreams implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly streams = new Set<ServerResponse>();
  private stopListening?: () => void;
  private keepAlive?: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly reads: ReadDatabases,
    @Inject(ENV) private readonly env: ApiEnv,
  ) {}

  onModuleInit(): void {
    this.stopListening = this.reads.onVersion((version) => this.broadcast(versionFrame(version)));
    this.keepAlive = setInterval(() => this.broadcast(KEEP_ALIVE_FRAME), this.env.VERSIONS_KEEPALIVE_MS);
    this.keepAlive.unref();
  }

  onModuleDestroy(): void {
    this.closeAll();
  }

  beforeApplicationShutdown(): void {
    this.closeAll();
  }

  get size(): number {
    return this.streams.size;
  }

  /** Throws 503 when a stream would be refused now: the bound is reached or the app is stopping. */
  admit(): void {
    if (this.closing) throw new ServiceUnavailableException('this api instance is shutting down; connect to another one');
    if (this.streams.size >= this.env.VERSIONS_MAX_STREAMS) {
      throw new ServiceUnavailableException(
        `too many open version streams on this api instance (at most ${this.env.VERSIONS_MAX_STREAMS}); poll GET /api/v1/resume instead`,
      );
    }
  }

  /** Starts the event stream on `res`; throws 503 when the bound is reached or the app is stopping. */
  open(res: ServerResponse): void {
    this.admit();
    res.writeHead(200, STREAM_HEADERS);
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
    const version = this.reads.document()?.version;
    this.send(res, version === undefined ? RETRY_FRAME : RETRY_FRAME + versionFrame(version));
  }

  private broadcast(frame: string): void {
    for (const res of this.streams) this.send(res, frame);
  }

  private send(res: ServerResponse, frame: string): void {
    if (res.write(frame)) return;
    this.streams.delete(res);
    res.destroy();
  }

  private closeAll(): void {
    this.closing = true;
    this.stopListening?.();
    clearInterval(this.keepAlive);
    for (const res of this.streams) res.end();
    this.streams.clear();
  }
}
