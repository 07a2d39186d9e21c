import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeApiOptions {
  /** Serve the version stream (`GET /api/v1/versions`); without it that path answers 404. */
  push?: boolean;
}

/**
 * A stand-in api instance: serves one mutable document with ETag/304 and the version stream of the
 * push channel (server-sent events), and records what it was asked.
 */
export class FakeApi {
  document: object = {};
  version = 1;
  /** Headers of every request for the document. */
  requests: IncomingHttpHeaders[] = [];
  /** How many version streams were opened. */
  streamsOpened = 0;
  /** While true, requests for the document are taken and never answered (a hung process). */
  hung = false;
  /** How the document's ETag is sent: `"v<n>"`, `W/"v<n>"` (as a compressing proxy makes it), or not at all. */
  etagStyle: 'strong' | 'weak' | 'none' = 'strong';
  /** When set, sent as the document's body instead of the document (e.g. broken JSON). */
  rawBody?: string;
  /** While true, every request for the document is answered 304, asked conditionally or not. */
  alwaysNotModified = false;
  /** The `retry:` sent when a stream opens. */
  streamRetryMs = 1000;
  /** While true, a stream is ended right after its opening frames (an api that answers the stream and closes it). */
  closeStreamsAtOnce = false;
  private readonly streams = new Set<ServerResponse>();
  private readonly held = new Set<ServerResponse>();
  private server?: Server;
  url = '';

  constructor(private readonly options: FakeApiOptions = { push: true }) {}

  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => this.answer(req, res));
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** A new version of the document, announced on every open stream. */
  publish(document: object): void {
    this.document = document;
    this.version += 1;
    this.announce();
  }

  /** Sends the current version on every open stream. */
  announce(): void {
    this.announceRaw(`{"version":${this.version}}`);
  }

  /** Sends a version event with this data on every open stream, whatever the api serves. */
  announceRaw(data: string): void {
    for (const stream of this.streams) stream.write(`event: version\ndata: ${data}\n\n`);
  }

  /** Writes raw text on every open stream. */
  writeStreams(text: string): void {
    for (const stream of this.streams) stream.write(text);
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Cuts every open stream (as an api restarting does). */
  dropStreams(): void {
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
  }

  /** Answers the requests held while hung. */
  release(): void {
    this.hung = false;
    for (const res of this.held) res.destroy();
    this.held.clear();
  }

  async stop(): Promise<void> {
    this.streams.clear();
    this.held.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    if (req.url === '/api/v1/versions' && this.options.push) {
      this.streamsOpened += 1;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(`retry: ${this.streamRetryMs}\n\nevent: version\ndata: {"version":${this.version}}\n\n`);
      if (this.closeStreamsAtOnce) {
        res.end();
        return;
      }
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
      return;
    }
    if (req.url !== '/api/v1/resume') {
      res.writeHead(404).end();
      return;
    }
    this.requests.push(req.headers);
    if (this.hung) {
      this.held.add(res);
      return;
    }
    const etag = { strong: `"v${this.version}"`, weak: `W/"v${this.version}"`, none: undefined }[this.etagStyle];
    const tags = etag ? { etag } : {};
    if (this.alwaysNotModified || (etag && req.headers['if-none-match']?.replace(/^W\//, '') === etag.replace(/^W\//, ''))) {
      res.writeHead(304, tags).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', ...tags }).end(this.rawBody ?? JSON.stringify(this.document));
  }
}
