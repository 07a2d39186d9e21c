/*
 * The headers that tie content nodes together, as pure functions on the raw forms lb handles:
 *
 * - `x-vita-node` on every response lb sends: the node that answered. lb sets its own name on
 *   answers of its own backends (replacing whatever a backend said) and on its own errors, and keeps
 *   the value a backup (another node's lb) sent, which names that node.
 * - `x-vita-forwarded-by` on every request lb sends to a backup. A request that arrives with it
 *   came from another node's lb and is served by local backends only: never sent on to a backup,
 *   so two nodes that are each other's backup cannot pass a request back and forth.
 */

export const NODE_HEADER = 'X-Vita-Node';
export const FORWARDED_BY_HEADER = 'X-Vita-Forwarded-By';

const NODE = NODE_HEADER.toLowerCase();
const FORWARDED_BY = FORWARDED_BY_HEADER.toLowerCase();

/** `X-Vita-Node: <node>\r\n` */
export const nodeLine = (node: string): string => `${NODE_HEADER}: ${node}\r\n`;

/** Whether a request's raw header list (name, value, …) carries `x-vita-forwarded-by`: it came from another node's lb. */
export function forwardedByPeer(raw: readonly string[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    // Most names are ruled out by their length, without lower-casing.
    if (raw[i].length === FORWARDED_BY.length && raw[i].toLowerCase() === FORWARDED_BY) return true;
  }
  return false;
}

/** A request head (ending in the blank line) with `x-vita-forwarded-by: <node>` added: for a backup. */
export function forwardedHead(head: string, node: string): string {
  return head.slice(0, -2) + FORWARDED_BY_HEADER + ': ' + node + '\r\n\r\n';
}

/**
 * A local backend's raw response headers with this node's `x-vita-node` in place of any the backend
 * sent (the list is the parser's, used once: changed in place).
 */
export function ownNode(raw: string[], node: string): string[] {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === NODE.length && raw[i].toLowerCase() === NODE) continue;
    raw[n++] = raw[i];
    raw[n++] = raw[i + 1];
  }
  raw.length = n;
  raw.push(NODE_HEADER, node);
  return raw;
}

/** Upgrade answers (http-proxy's lower-cased header object): the same rule, for a local backend's 101. */
export function ownNodeIn(headers: Record<string, string | string[] | undefined>, node: string): void {
  headers[NODE] = node;
}
