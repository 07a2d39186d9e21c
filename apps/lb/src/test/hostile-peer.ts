import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/*
 * A challenge peer (another node's plain lb listener, as lb's https.challengePeers sees it) that
 * misbehaves in the way its `mode` says. It counts what it sees so a test can tell whether lb let go
 * of its connections, and how many lookups it made at once. Loopback only; every timer it starts is
 * cleared when the connection closes.
 */

export type PeerMode =
  /** Accepts, reads, never answers. */
  | 'hang'
  /** A valid-looking 200 whose bytes come one every 150 ms. */
  | 'slow'
  /** 200 with Content-Length 50 MB, written as fast as lb reads. */
  | 'huge'
  /** 200 chunked, a chunk every 5 ms, never ending. */
  | 'chunked'
  /** 200 with another token's key authorization. */
  | 'wrong'
  /** 302 to `redirectTo` (which would answer a valid key authorization). */
  | 'redirect'
  /** Resets the connection (RST) once the request arrives. */
  | 'reset'
  /** Not HTTP: an SSH banner, then silence. */
  | 'garbage'
  /** Header lines without end. */
  | 'headers'
  /** The key authorization `<token>.<thumbprint>` after `delayMs`. */
  | 'valid';

export const THUMBPRINT = 'peerThumbprint_0123456789abcdefABCDEF';

export class HostilePeer {
  mode: PeerMode = 'hang';
  delayMs = 0;
  redirectTo = '';
  /** Connections open now, the most at once, accepted so far. */
  open = 0;
  maxOpen = 0;
  accepted = 0;
  /** Request heads seen (request line only). */
  readonly requests: string[] = [];
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(host = '127.0.0.1'): Promise<HostilePeer> {
    let self: HostilePeer | null = null;
    const server = createServer((socket) => (self as HostilePeer).onConnection(socket));
    await new Promise<void>((r) => server.listen(0, host, r));
    self = new HostilePeer(server);
    return self;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts counting `maxOpen` again from what is open now. */
  resetMax(): void {
    this.maxOpen = this.open;
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    this.open++;
    this.accepted++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    const timers = new Set<NodeJS.Timeout>();
    const later = (fn: () => void, ms: number) => {
      const t = setTimeout(() => (timers.delete(t), fn()), ms);
      timers.add(t);
    };
    const every = (fn: () => void, ms: number) => {
      const t = setInterval(fn, ms);
      timers.add(t);
    };
    socket.once('close', () => {
      this.sockets.delete(socket);
      this.open--;
      for (const t of timers) clearTimeout(t);
    });
    socket.on('error', () => socket.destroy());
    let buffered = '';
    let answered = false;
    socket.on('data', (d: Buffer) => {
      buffered += d.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0 || answered) return;
      answered = true;
      const line = buffered.slice(0, buffered.indexOf('\r\n'));
      this.requests.push(line);
      const token = /\/\.well-known\/acme-challenge\/([^ ?]*)/.exec(line)?.[1] ?? 'none';
      const write = (s: string) => !socket.destroyed && socket.write(s, 'latin1');
      switch (this.mode) {
        case 'hang':
          return;
        case 'slow': {
          const body = `${token}.${THUMBPRINT}`;
          const bytes = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
          let i = 0;
          every(() => (i < bytes.length ? write(bytes[i++]) : undefined), 150);
          return;
        }
        case 'huge': {
          write('HTTP/1.1 200 OK\r\nContent-Length: 52428800\r\n\r\n');
          const chunk = Buffer.alloc(64 * 1024, 'A');
          const pump = () => {
            while (!socket.destroyed && socket.write(chunk));
          };
          socket.on('drain', pump);
          pump();
          return;
        }
        case 'chunked':
          write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
          every(() => write(`40\r\n${'B'.repeat(64)}\r\n`), 5);
          return;
        case 'wrong': {
          const body = `someOtherToken.${THUMBPRINT}`;
          write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
          return;
        }
        case 'redirect':
          write(`HTTP/1.1 302 Found\r\nLocation: ${this.redirectTo}/.well-known/acme-challenge/${token}\r\nContent-Length: 0\r\n\r\n`);
          return;
        case 'reset':
          socket.resetAndDestroy();
          return;
        case 'garbage':
          write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n');
          return;
        case 'headers':
          write('HTTP/1.1 200 OK\r\n');
          every(() => write(`X-Filler: ${'f'.repeat(100)}\r\n`), 2);
          return;
        case 'valid': {
          const body = `${token}.${THUMBPRINT}`;
          later(() => write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`), this.delayMs);
          return;
        }
      }
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}
