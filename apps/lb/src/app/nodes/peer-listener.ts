import type { AddressInfo, Socket } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { parseHostPort } from '@vita/runtime';
import type { LbConfig } from '../config/config';
import { peerCredentials } from '../config/tls-files';

/**
 * The listener other nodes' lbs reach this one on (`peer.listen`): TLS with this node's certificate,
 * each connection handed, once its handshake is done, to the same request path as the data plane's
 * own listener. Null when there is none configured.
 */
export function peerListener(config: LbConfig, onConnection: (socket: Socket) => void): Server | null {
  const credentials = peerCredentials(config);
  if (credentials === null) return null;
  const server = createServer({ ...credentials, ALPNProtocols: ['http/1.1'], handshakeTimeout: config.timeouts.headersMs }, onConnection);
  // A peer whose handshake fails (wrong CA on its side, a scanner) costs nothing but its socket.
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  return server;
}

/** Binds the peer listener to `peer.listen`. */
export function listenPeers(server: Server, config: LbConfig): Promise<AddressInfo> {
  const { host, port } = parseHostPort(config.peer.listen as string);
  return new Promise((resolve, reject) => {
    const failed = (err: Error) => reject(new Error(`cannot listen on ${config.peer.listen} (peer.listen): ${err.message}`));
    server.prependOnceListener('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve(server.address() as AddressInfo);
    });
  });
}
