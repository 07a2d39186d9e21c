import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A stand-in api instance: serves one mutable document with ETag/304, and records what it was asked. */
export class FakeApi {
  document: object = {};
  version = 1;
  requests: IncomingHttpHeaders[] = [];
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.requests.push(req.headers);
      if (req.url !== '/api/v1/resume') {
        res.writeHead(404).end();
        return;
      }
      const etag = `"v${this.version}"`;
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', etag }).end(JSON.stringify(this.document));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  publish(document: object): void {
    this.document = document;
    this.version += 1;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
