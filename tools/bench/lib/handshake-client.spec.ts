import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { makeCertificate } from '../lb/tls';
import type { TlsFiles } from '../lb/stack';
import { runClient } from './handshake-client';
import type { HandshakeClientOptions } from './handshakes';

/*
 * The handshake client against a real TLS server on loopback (certificates made by the bench's own
 * makeCertificate): what it counts is what the server saw, and every handshake is a full one.
 */

const dir = mkdtempSync(join(tmpdir(), 'vita-bench-handshakes-'));
let tls: TlsFiles;
let other: TlsFiles;

interface Seen {
  connections: number;
  reused: number;
}

function server(files: TlsFiles, status: string): Promise<{ server: Server; seen: Seen; port: number }> {
  const seen: Seen = { connections: 0, reused: 0 };
  const server = createServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, (socket: TLSSocket) => {
    seen.connections++;
    if (socket.isSessionReused()) seen.reused++;
    socket.once('data', () => socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok`));
    socket.on('error', () => undefined);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, seen, port: (server.address() as AddressInfo).port })));
}

const options = (port: number, ca: string): HandshakeClientOptions => ({ host: '127.0.0.1', port, path: '/', servername: 'localhost', ca, connections: 4, seconds: 1, processes: 1 });

beforeAll(async () => {
  tls = await makeCertificate(join(dir, 'a'));
  other = await makeCertificate(join(dir, 'b'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the handshake client', () => {
  it('counts every connection the server answered with a 200, none of them resumed', async () => {
    const { server: s, seen, port } = await server(tls, '200 OK');
    try {
      const run = await runClient(options(port, tls.ca));
      expect(run.done).toBeGreaterThan(4);
      expect(run.done).toBe(seen.connections);
      expect(seen.reused).toBe(0);
      expect(run.resumed).toBe(0);
      expect(run.failed).toBe(0);
      expect(run.latenciesMs).toHaveLength(run.done);
      expect(run.elapsedMs).toBeGreaterThanOrEqual(1000);
    } finally {
      s.close();
    }
  });

  it('counts answers other than 200 as failures', async () => {
    const { server: s, seen, port } = await server(tls, '503 Service Unavailable');
    try {
      const run = await runClient(options(port, tls.ca));
      expect(run.done).toBe(0);
      expect(run.failed).toBe(seen.connections);
      expect(run.failed).toBeGreaterThan(0);
    } finally {
      s.close();
    }
  });

  it('verifies the certificate: one its CA did not issue fails every handshake', async () => {
    const { server: s, seen, port } = await server(other, '200 OK');
    try {
      const run = await runClient(options(port, tls.ca));
      expect(run.done).toBe(0);
      expect(run.failed).toBeGreaterThan(0);
      expect(seen.connections).toBe(0);
    } finally {
      s.close();
    }
  });
});
