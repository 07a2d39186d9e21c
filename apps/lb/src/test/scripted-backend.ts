import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A backend that answers each request head with raw bytes of the test's choosing (by path), to play
 * a misbehaving server: whatever it writes is sent as written. `null`: no answer at all.
 */
export class ScriptedBackend {
  /** Request heads received, in order (request line first). */
  readonly heads: string[] = [];
  /** Connections accepted so far. */
  connections = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(answer: (path: string, head: string) => string | null): Promise<ScriptedBackend> {
    let self: ScriptedBackend | null = null;
    const server = createServer((socket) => {
      const backend = self as ScriptedBackend;
      backend.sockets.add(socket);
      backend.connections++;
      socket.on('close', () => backend.sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      let buffered = '';
      socket.on('data', (d: Buffer) => {
        buffered += d.toString('latin1');
        for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
          const head = buffered.slice(0, end);
          buffered = buffered.slice(end + 4);
          backend.heads.push(head);
          const path = head.split(' ')[1] ?? '';
          const bytes = path.startsWith('/health') ? 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' : answer(path, head);
          if (bytes !== null) socket.write(bytes, 'latin1');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    self = new ScriptedBackend(server);
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Request heads for `path` (health checks aside). */
  requests(path: string): string[] {
    return this.heads.filter((h) => h.split(' ')[1] === path);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}
