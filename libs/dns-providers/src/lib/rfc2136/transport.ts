/** DNS over TCP (RFC 1035 §4.2.2, RFC 7766): one request, one response, on a fresh connection, bounded in time. */
import { connect, Socket } from 'node:net';

/** A message framed for TCP: a two-byte length, then the message. */
export function frameTcp(message: Buffer): Buffer {
  if (message.length > 0xffff) throw new Error(`a DNS message over TCP is at most 65535 bytes, this one is ${message.length}`);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(message.length);
  return Buffer.concat([len, message]);
}

/** The first whole frame in `received` and what follows it, or undefined while it is incomplete. */
export function takeTcpFrame(received: Buffer): { frame: Buffer; rest: Buffer } | undefined {
  if (received.length < 2) return undefined;
  const end = 2 + received.readUInt16BE(0);
  if (received.length < end) return undefined;
  return { frame: received.subarray(2, end), rest: received.subarray(end) };
}

/** The exchange failed at the transport: no connection, no (whole) answer in time, the connection dropped. */
export class TransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportError';
  }
}

/**
 * Sends `message` to host:port over TCP and resolves with the first response frame. Everything (connect,
 * send, receive) is bounded by `timeoutMs`; the socket is destroyed on every outcome. `track` sees the
 * socket while it is open (so an owner can destroy it on close).
 */
export function tcpExchange(host: string, port: number, message: Buffer, timeoutMs: number, track?: Set<Socket>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    track?.add(socket);
    let received: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | undefined, frame?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      track?.delete(socket);
      socket.destroy();
      if (err) reject(err);
      else resolve(frame as Buffer);
    };
    const timer = setTimeout(() => finish(new TransportError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => socket.write(frameTcp(message)));
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      const got = takeTcpFrame(received);
      if (got) finish(undefined, Buffer.from(got.frame));
    });
    socket.once('error', (e: NodeJS.ErrnoException) => finish(new TransportError(e.code ?? e.message)));
    socket.once('close', () => finish(new TransportError('the connection closed before a whole answer')));
  });
}
