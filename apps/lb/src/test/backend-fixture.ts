/*
 * A test backend, run as its own process (see backends.ts): a small Node HTTP server on loopback
 * that counts what reaches it. Node built-ins only, so it runs from a one-file transpile.
 *
 *   /health/ready      200 (not counted; counted as a check)
 *   /__stats           counters as JSON (not counted)
 *   /slow?ms=N         answers after N ms
 *   /status/NNN        answers with that status
 *   /echo              method, url, headers and body as JSON
 *   /first-chunk       answers as soon as the first piece of the body arrives, before the body ends
 *   /drip              sends "first", waits 300 ms, sends "second"
 *   /big?mb=N          N MiB, written as fast as the connection takes them (counted in bigSent)
 *   /split-head        a response whose header block arrives in two packets
 *   /hop               a response carrying hop-by-hop headers
 *   /claims-node       a response carrying `X-Vita-Node: impostor`
 *   /close-delimited   a body without Content-Length or chunking, delimited by closing the connection
 *   /many-headers?n=N  a response with N extra headers (X-H0 … X-H{N-1})
 *   /hold?ms=N         reads the request body only after N ms; answers with its length
 *   /empty?status=NNN  a 204 or 304 without Content-Length
 *   /chunks?n=N&size=S N chunks of S bytes written at once (chunked), then the end
 *   (upgrade)          accepts a WebSocket upgrade and echoes bytes; "close" makes it hang up
 */
import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface Options {
  name: string;
  port: number;
  /** Destroy a keep-alive connection, without answering, when a second request arrives on it. */
  dropReused?: boolean;
  keepAliveMs?: number;
  healthStatus?: number;
}

const options = JSON.parse(process.argv[2]) as Options;
const stats = { requests: 0, checks: 0, aborted: 0, dropped: 0, posts: 0, openUpgrades: 0, bigSent: 0, paths: {} as Record<string, number> };
const served = new WeakMap<Socket, number>();

function reply(res: ServerResponse, status: number, body: string | Buffer, type = 'text/plain'): void {
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'X-Backend': options.name });
  res.end(body);
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://backend');
  if (url.pathname === '/health/ready') {
    stats.checks++;
    return reply(res, options.healthStatus ?? 200, 'ok');
  }
  if (url.pathname === '/__stats') return reply(res, 200, JSON.stringify(stats), 'application/json');
  stats.requests++;
  stats.paths[url.pathname] = (stats.paths[url.pathname] ?? 0) + 1;
  if (req.method === 'POST') stats.posts++;
  const count = (served.get(req.socket) ?? 0) + 1;
  served.set(req.socket, count);
  if (options.dropReused && count > 1) {
    stats.dropped++;
    req.socket.destroy();
    return;
  }
  // The response's 'close' (the request's fires once its body is read, in Node 20): the connection
  // went away before the response was complete.
  res.on('close', () => {
    if (!res.writableFinished) stats.aborted++;
  });
  switch (url.pathname) {
    case '/slow':
      setTimeout(() => reply(res, 200, `${options.name} slow`), Number(url.searchParams.get('ms') ?? 1000));
      return void req.resume();
    case '/echo': {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => reply(res, 200, JSON.stringify({ backend: options.name, method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }), 'application/json'));
      return;
    }
    case '/first-chunk':
      req.once('data', (c: Buffer) => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Backend': options.name });
        res.write(`got ${c.toString()}`);
        req.on('end', () => res.end(' | end'));
      });
      return;
    case '/drip':
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Backend': options.name });
      res.write('first;');
      setTimeout(() => res.end('second'), 300);
      return;
    case '/big': {
      const total = Number(url.searchParams.get('mb') ?? 1) * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, 'b');
      let sent = 0;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': total, 'X-Backend': options.name });
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          stats.bigSent = sent;
          if (sent >= total) return void res.end(chunk);
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      return pump();
    }
    case '/split-head':
      req.socket.write(`HTTP/1.1 200 OK\r\nX-Backend: ${options.name}\r\nX-Part: one\r\n`);
      setTimeout(() => req.socket.end('X-Part-Two: two\r\nContent-Length: 5\r\nConnection: close\r\n\r\nsplit'), 50);
      return;
    case '/close-delimited':
      req.socket.end(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Backend: ${options.name}\r\nConnection: close\r\n\r\n${req.method === 'HEAD' ? '' : 'until the close'}`);
      return;
    case '/many-headers': {
      const headers: Record<string, string> = { 'Content-Type': 'text/plain', 'Content-Length': '4', 'X-Backend': options.name };
      for (let i = 0; i < Number(url.searchParams.get('n') ?? 40); i++) headers[`X-H${i}`] = `v${i}`;
      res.writeHead(200, headers);
      res.end('many');
      return;
    }
    case '/chunks': {
      const chunk = Buffer.alloc(Number(url.searchParams.get('size') ?? 1024), 'c');
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'X-Backend': options.name });
      for (let i = 0; i < Number(url.searchParams.get('n') ?? 64); i++) res.write(chunk);
      res.end();
      return;
    }
    case '/hold': {
      // Reads nothing of the body for a while, then all of it; answers with its length.
      req.pause();
      setTimeout(() => {
        let length = 0;
        req.on('data', (c: Buffer) => (length += c.length));
        req.on('end', () => reply(res, 200, String(length)));
        req.resume();
      }, Number(url.searchParams.get('ms') ?? 500));
      return;
    }
    case '/empty': {
      // A 204 or 304 with neither Content-Length nor chunking (Node sends neither for these).
      res.writeHead(Number(url.searchParams.get('status') ?? 204), { 'X-Backend': options.name });
      res.end();
      return;
    }
    case '/claims-node':
      // A backend that says it is a node (lb replaces the claim with its own name).
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 5, 'X-Vita-Node': 'impostor', 'X-Backend': options.name });
      res.end('claim');
      return;
    case '/hop':
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 3, Connection: 'keep-alive, X-Hop', 'X-Hop': 'secret', 'Keep-Alive': 'timeout=5', 'X-End': 'kept' });
      res.end('hop');
      return;
  }
  const status = /^\/status\/(\d{3})$/.exec(url.pathname);
  reply(res, status ? Number(status[1]) : 200, `${options.name} ${req.method} ${url.pathname}`);
}

const server = createServer({ keepAliveTimeout: options.keepAliveMs ?? 5000 }, handle);
server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
  stats.requests++;
  stats.openUpgrades++;
  socket.once('close', () => stats.openUpgrades--);
  // lb resets a tunnel it tears down (idle, or half closed too long).
  socket.on('error', () => socket.destroy());
  const accept = createHash('sha1')
    .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Backend: ${options.name}\r\n\r\n`);
  socket.on('data', (d: Buffer) => (d.toString() === 'close' ? socket.destroy() : socket.write(d)));
  // Like any WebSocket server: the peer finished, so finish too.
  socket.on('end', () => socket.end());
});
server.listen(options.port, '127.0.0.1', () => process.stdout.write('ready\n'));
