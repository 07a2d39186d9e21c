import { createHash, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';

/**
 * A join token: what a new content node is given to join the topology, `vita-join.<pin>.<secret>`.
 * - `pin`: the SHA-256 of the site CA's certificate (DER, hex), so the node can trust the warehouse's
 *   certificate before it has the CA: it fetches the CA, checks it against the pin, then verifies
 *   everything else with it;
 * - `secret`: what the warehouse's join endpoint checks (a bearer token).
 * Give it to the join command in VITA_JOIN_TOKEN or a file, never on its command line.
 */
export interface JoinToken {
  pin: string;
  secret: string;
}

const PREFIX = 'vita-join';
const TOKEN = /^vita-join\.([0-9a-f]{64})\.([A-Za-z0-9_-]{32,128})$/;

/** The pin of a CA certificate (PEM): SHA-256 of its DER encoding, hex. */
export function caPin(caPem: string): string {
  return createHash('sha256').update(new X509Certificate(caPem).raw).digest('hex');
}

export function newJoinSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function formatJoinToken(caPem: string, secret: string): string {
  const token = `${PREFIX}.${caPin(caPem)}.${secret}`;
  parseJoinToken(token);
  return token;
}

/** Reads a token; the error never repeats it (it holds a secret). */
export function parseJoinToken(text: string): JoinToken {
  const m = TOKEN.exec(text.trim());
  if (!m) throw new Error('the join token must look like vita-join.<64 hex digits>.<secret> (as `site token` prints it on the warehouse)');
  return { pin: m[1], secret: m[2] };
}

/** Whether a CA certificate (PEM) is the one the token pins. */
export function matchesPin(caPem: string, pin: string): boolean {
  let actual: Buffer;
  try {
    actual = Buffer.from(caPin(caPem), 'hex');
  } catch {
    return false;
  }
  const wanted = Buffer.from(pin, 'hex');
  return actual.length === wanted.length && timingSafeEqual(actual, wanted);
}
