import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { freePort } from '@vita/testing';
import type { DrainRecord, EndpointView, VantageView } from '../app/model';
import { ProviderError, type RecordSet, type RecordType } from '@vita/dns-providers';
import { ADMIN_TOKEN, PEER_TOKEN, startController, type RunningController } from '../test/controller-harness';
import { MemoryProvider } from '../test/memory-provider';

export const NAME = 'resume.vita.test';

/** A stand-in for another controller: answers every PUT /api/v1/peer/view with `answer(body)`. */
export class FakePeer {
  requests = 0;
  hang = false;
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(answer: (body: unknown) => unknown): Promise<FakePeer> {
    const port = await freePort();
    let peer: FakePeer | null = null;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (peer) peer.requests++;
        if (peer?.hang) return;
        let body: unknown = null;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          /* ignore */
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer(body)));
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    peer = new FakePeer(server, `http://127.0.0.1:${port}`);
    return peer;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}

/** A view as a controller would send it. */
export function view(vantage: string, endpoints: Array<{ key: string; up: boolean; version?: number }>, drains: DrainRecord[] = [], rounds = 10): VantageView {
  const now = new Date().toISOString();
  return {
    vantage,
    at: now,
    rounds,
    endpoints: endpoints.map(
      (e): EndpointView => ({
        key: e.key,
        up: e.up,
        since: now,
        last: e.up ? { ok: true, at: now, durationMs: 1, status: 200, version: e.version ?? 1 } : { ok: false, at: now, durationMs: 1, error: 'connection refused' },
      }),
    ),
    drains,
  };
}

/** A memory provider whose every call takes `delayMs` (a slow server, still within its bound). */
export class SlowProvider extends MemoryProvider {
  calls = 0;
  constructor(
    id: string,
    public delayMs: number,
  ) {
    super(id);
  }
  override async read(name: string): Promise<Record<RecordType, RecordSet>> {
    this.calls++;
    await new Promise((r) => setTimeout(r, this.delayMs));
    return super.read(name);
  }
  override async replace(name: string, type: RecordType, from: RecordSet, to: string[], ttl: number): Promise<void> {
    this.calls++;
    await new Promise((r) => setTimeout(r, this.delayMs));
    return super.replace(name, type, from, to, ttl);
  }
}

export { ProviderError };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const put = (url: string, token: string, body: unknown) =>
  fetch(`${url}/api/v1/peer/view`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body), signal: AbortSignal.timeout(5000) });

export const post = (url: string, path: string, body: unknown, token?: string) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });

/**
 * A test file's controller `w` over node-a and node-b (at `a` and `b`, probed on `port()`), the fake
 * peers it talks to, what a test reads, and `cleanup` (for afterEach) that stops every controller
 * and peer a test started.
 */
export function attackSite(a: string, b: string, port: () => number) {
  const started: RunningController[] = [];
  const peers: FakePeer[] = [];
  const start = async (env: Record<string, string>, p: MemoryProvider, listen?: number) => {
    const c = await startController({ DNS_NAME: NAME, DNS_NODES: `node-a=${a},node-b=${b}`, DNS_PROBE_PORT: String(port()), DNS_VANTAGE: 'w', DNS_PEER_TOKEN: PEER_TOKEN, DNS_ADMIN_TOKEN: ADMIN_TOKEN, ...env }, [p], listen);
    started.push(c);
    return c;
  };
  const peer = async (answer: (body: unknown) => unknown) => {
    const f = await FakePeer.start(answer);
    peers.push(f);
    return f;
  };
  const served = (p: MemoryProvider) => p.serves(NAME, 'A').join(' ');
  /** For afterEach: stops every controller and peer the test started. */
  const cleanup = async () => {
    await Promise.all(started.splice(0).map((c) => c.close().catch(() => undefined)));
    await Promise.all(peers.splice(0).map((f) => f.close()));
  };
  return { started, peers, start, peer, served, cleanup };
}
