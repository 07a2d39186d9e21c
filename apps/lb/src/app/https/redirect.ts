import { CHALLENGE_PREFIX } from './challenges';
import { hostName } from './certificates';

/** What the plain listener does with a request while https is on. */
export type PlainAnswer =
  | { kind: 'forward' }
  | { kind: 'challenge'; token: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'refuse'; why: string };

/**
 * The plain listener's decision: ACME challenges answered; with `redirect` (https.redirectHttp),
 * /health/* forwarded as always and everything else sent to https on the same host (only a host lb
 * serves: `allowed`) and path, with the https port when it is not 443; without it, forwarded.
 */
export function plainAnswer(url: string, host: string | undefined, allowed: (host: string) => boolean, httpsPort: number, redirect = true): PlainAnswer {
  if (url.startsWith(CHALLENGE_PREFIX)) return { kind: 'challenge', token: url.slice(CHALLENGE_PREFIX.length) };
  if (!redirect || url.startsWith('/health/')) return { kind: 'forward' };
  const name = hostName(host);
  if (name === null || !allowed(name)) return { kind: 'refuse', why: 'this host is not served here' };
  return { kind: 'redirect', location: `https://${name}${httpsPort === 443 ? '' : `:${httpsPort}`}${url}` };
}
