import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A content node as the controller sees it from outside: its lb's page on one address and port,
 * with an ETag carrying the document version. It can die, come back, hang, serve an error or an
 * older version.
 */
export class FakeNode {
  version = 1;
  mode: 'page' | 'error' | 'hang' = 'page';
  requests = 0;
  hosts = new Set<string>();
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly name: string,
    readonly address: string,
    readonly port: number,
  ) {}

  static async start(name: string, address: string, port: number): Promise<FakeNode> {
    const node = new FakeNode(name, address, port);
    await node.revive();
    return node;
  }

  async revive(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => {
      this.requests++;
      this.hosts.add(req.headers.host ?? '');
      if (this.mode === 'hang') return;
      if (this.mode === 'error') return void res.writeHead(503, { 'content-type': 'text/plain' }).end('no web instance answers\n');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', etag: `"v${this.version}-abc"`, 'x-vita-node': this.name }).end(`<!doctype html><html><body><h1>${this.name}</h1></body></html>\n`);
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.address, () => resolve());
    });
    this.server = server;
  }

  /** Gone, like a killed lb: connections refused. */
  async kill(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => server.close(r));
  }
}
