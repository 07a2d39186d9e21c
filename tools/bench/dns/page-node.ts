import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A content node as the dns controller probes it: the résumé page (200, text/html, a version ETag,
 * the body ending in </html>) on one loopback address. It can die (listener and sockets closed: connections
 * refused), hang (connections accepted, never answered) and come back.
 */
export class PageNode {
  mode: 'page' | 'hang' = 'page';
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly name: string,
    readonly address: string,
    readonly port: number,
  ) {}

  get listening(): boolean {
    return this.server !== null;
  }

  /** Listens (again) and serves the page. */
  async revive(): Promise<void> {
    this.mode = 'page';
    if (this.server) return;
    const server = createServer((req, res) => {
      if (this.mode === 'hang') return;
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', etag: '"v1-bench"', 'x-vita-node': this.name });
      res.end(`<!doctype html><html><head><title>${this.name}</title></head><body><h1>Ada Quill</h1></body></html>\n`);
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.address, () => resolve());
    });
    this.server = server;
  }

  /** Accepts connections and never answers (a wedged lb). */
  hang(): void {
    this.mode = 'hang';
  }

  /** Gone: the listener closed and every connection destroyed. */
  async kill(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
}
