import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { createServer, type SecureContextOptions, type Server } from 'node:tls';
import { INTERMEDIATE_CIPHERS, type CertificateSet } from './certificates';

/** Session ticket keys: 48 bytes (name, HMAC and AES keys), as `server.setTicketKeys` takes them. */
export const newTicketKey = (): Buffer => randomBytes(48);

/** Every 12 h the primary makes a new ticket key and sends it to every data plane. */
export const TICKET_ROTATION_MS = 12 * 3_600_000;

/** The listener's own context: the default certificate (clients without SNI get it), the protocol policy, the ticket key. */
export function defaultContext(certs: CertificateSet, ticketKey: Buffer): SecureContextOptions {
  const first = certs.pick(undefined);
  return { cert: first?.pem.cert, key: first?.pem.key, minVersion: 'TLSv1.2', ciphers: INTERMEDIATE_CIPHERS, honorCipherOrder: false, ticketKeys: ticketKey };
}

/**
 * The visitors' HTTPS listener: TLS 1.2/1.3 with Mozilla's intermediate suites, ALPN http/1.1, the
 * certificate picked by SNI from `certs` (read at each handshake, so a reload applies to the next
 * one and open connections are left alone), the handshake bounded by `handshakeMs`. Nagle's
 * algorithm is off, as on the plain listener: a response lb writes in pieces (as they come from the
 * backend) would otherwise wait for the client's delayed ACK before each small piece, ~40 ms.
 */
export function httpsServer(certs: CertificateSet, ticketKey: Buffer, handshakeMs: number, onConnection: (socket: Socket) => void): Server {
  const server = createServer(
    {
      ...defaultContext(certs, ticketKey),
      ALPNProtocols: ['http/1.1'],
      noDelay: true,
      handshakeTimeout: handshakeMs,
      SNICallback: (name, done) => done(null, certs.pick(name)?.context),
    },
    onConnection,
  );
  // A handshake that fails (a scanner, an old client, no shared suite) costs nothing but its socket.
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  return server;
}
