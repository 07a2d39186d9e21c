import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { startTestLb, waitFor, type TestLb } from './harness';

/** A request as the backend's HTTP parser (Node's) read it. */
export interface Parsed {
  method: string;
  url: string;
  body: string;
}

/**
 * A backend for request-smuggling tests: a Node HTTP server behind a relay that records every byte
 * it is sent. Each response says which request it answers (`METHOD url`, with a Content-Length), so
 * a client can tell whether it got the answer to its own request.
 */
export class RecordingBackend {
  private constructor(
    private readonly http: HttpServer,
    private readonly relay: Server,
    /** Every request the HTTP server parsed. */
    readonly parsed: Parsed[],
    private readonly sockets: Set<Socket>,
    private readonly record: { received: string },
  ) {}

  /** Every byte received, over all connections, in arrival order. */
  get received(): string {
    return this.record.received;
  }

  static async start(): Promise<RecordingBackend> {
    const parsed: Parsed[] = [];
    const http = createHttpServer({ keepAliveTimeout: 30_000 }, (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('latin1');
        parsed.push({ method: req.method ?? '', url: req.url ?? '', body });
        const answer = `${req.method} ${req.url} ${body.length}`;
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(answer) }).end(answer);
      });
    });
    // Upgrades are accepted and then closed: what matters is what the backend was sent.
    http.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      parsed.push({ method: req.method ?? '', url: req.url ?? '', body: '' });
      socket.end('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const httpPort = (http.address() as AddressInfo).port;
    const sockets = new Set<Socket>();
    const record = { received: '' };
    const relay = createServer((socket) => {
      const inner = connect(httpPort, '127.0.0.1');
      sockets.add(socket).add(inner);
      socket.on('data', (d: Buffer) => {
        record.received += d.toString('latin1');
        inner.write(d);
      });
      inner.pipe(socket);
      const close = () => [socket, inner].forEach((s) => (s.destroy(), sockets.delete(s)));
      socket.on('close', close).on('error', close);
      inner.on('close', close).on('error', close);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    return new RecordingBackend(http, relay, parsed, sockets, record);
  }

  get port(): number {
    return (this.relay.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Forgets what was recorded. */
  reset(): void {
    this.record.received = '';
    this.parsed.length = 0;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.http.closeAllConnections();
    await Promise.all([new Promise((r) => this.relay.close(r)), new Promise((r) => this.http.close(r))]);
  }
}

/**
 * A recording backend behind lb (in this process), once lb's first health check has reached it; no
 * later checks (the interval is an hour), so every byte it records afterwards comes from a test.
 */
export async function recordedLb(): Promise<{ backend: RecordingBackend; lb: TestLb; stop(): Promise<void> }> {
  const backend = await RecordingBackend.start();
  const lb = await startTestLb({ backends: [{ name: 'rec', url: backend.url }], healthCheck: { intervalMs: 3_600_000, timeoutMs: 1000 } });
  await waitFor('the first health check', () => (backend.parsed.length > 0 ? true : undefined));
  return {
    backend,
    lb,
    stop: async () => {
      await lb.stop();
      await backend.stop();
    },
  };
}
