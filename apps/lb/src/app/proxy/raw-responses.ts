import { nodeLine } from '../nodes/node-headers';

/** `X-Vita-Node: <this node>\r\n` on every raw response (set once, at start: see setNodeName). */
let node = '';

/** Names this node on every response lb writes itself (the node name is fixed for the life of the process). */
export function setNodeName(name: string): void {
  node = nodeLine(name);
}

/** Responses lb writes straight to a socket it then closes (malformed, hostile or unroutable requests). */
export const rawResponse = (status: string, body: string): string =>
  `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${node}Connection: close\r\n\r\n${body}`;

/** By Node's parser error code: what the client is told before the connection closes. */
const CLIENT_ERRORS: Record<string, [string, string]> = {
  HPE_HEADER_OVERFLOW: ['431 Request Header Fields Too Large', 'the request headers are too large\n'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: ['413 Payload Too Large', 'chunk extensions too large\n'],
  ERR_HTTP_REQUEST_TIMEOUT: ['408 Request Timeout', 'the request took too long to arrive\n'],
};
export const clientError = (code: string): string => {
  const known = CLIENT_ERRORS[code];
  return known === undefined ? BAD_REQUEST() : rawResponse(...known);
};
export const BAD_REQUEST = () => rawResponse('400 Bad Request', 'malformed request\n');
export const CONNECT_REFUSED = () => rawResponse('405 Method Not Allowed', 'lb is not a forward proxy: CONNECT is not allowed\n');
export const BAD_UPGRADE = () => rawResponse('400 Bad Request', 'only WebSocket upgrades of a GET to a path are proxied\n');
export const NO_BACKEND = () => rawResponse('503 Service Unavailable', 'no backend is available, retry shortly\n');
export const GATEWAY_TIMEOUT = () => rawResponse('504 Gateway Timeout', 'the backend did not answer in time\n');
export const BAD_GATEWAY = () => rawResponse('502 Bad Gateway', 'the backend failed before answering\n');
