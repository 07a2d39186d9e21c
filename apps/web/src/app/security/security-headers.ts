import helmet, { FastifyHelmetOptions } from '@fastify/helmet';
import Fastify, { FastifyInstance } from 'fastify';
import type { WebEnv } from '../config/env';

/** A response header, name in lower case. */
export type Header = readonly [name: string, value: string];

/** @fastify/helmet's settings for web: a strict CSP (no script at all, styles from this origin or ASSET_BASE_URL). */
export function helmetOptions(env: WebEnv): FastifyHelmetOptions {
  const assetOrigin = env.ASSET_BASE_URL ? [new URL(env.ASSET_BASE_URL).origin] : [];
  return {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'", ...assetOrigin],
        // The portrait may live anywhere on https (JSON Resume's basics.image is any URL).
        imgSrc: ["'self'", 'https:', 'data:', ...assetOrigin],
        // The page's own files may be fetched from it (robots.txt, as Lighthouse checks it).
        connectSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'none'"],
        frameAncestors: ["'none'"],
      },
    },
    crossOriginEmbedderPolicy: false,
  };
}

/**
 * The headers @fastify/helmet sets with these options, taken from a throwaway instance at start-up.
 * Helmet builds them again on every request (parsing the CSP each time); with these options they
 * never change, so web sets the captured list instead. Options whose headers differ per request
 * (CSP nonces) cannot be captured: that is refused.
 */
export async function captureHelmetHeaders(options: FastifyHelmetOptions): Promise<Header[]> {
  const probe = Fastify();
  const seen: string[] = [];
  try {
    await probe.register(helmet, options);
    probe.get('/', (_request, reply) => {
      // Helmet runs in onRequest: at the handler, the reply holds its headers and nothing else.
      const headers = Object.entries(reply.getHeaders()).map(([name, value]) => [name.toLowerCase(), String(value)] as const);
      seen.push(JSON.stringify(headers));
      reply.send();
    });
    await probe.inject('/');
    await probe.inject('/');
  } finally {
    await probe.close();
  }
  if (seen.length !== 2 || seen[0] !== seen[1]) throw new Error('helmet headers differ between requests: they cannot be set from a captured list');
  return JSON.parse(seen[0]) as Header[];
}

export const HSTS = 'strict-transport-security';

/** The host name a request was made for (X-Forwarded-Host, as lb sets it, or Host), lower-case, without port or brackets. */
function requestHost(forwardedHost: string | string[] | undefined, host: string | undefined): string {
  const first = (Array.isArray(forwardedHost) ? forwardedHost[0] : forwardedHost)?.split(',')[0]?.trim() || host || '';
  const name = first.toLowerCase();
  if (name.startsWith('[')) return name.slice(1, name.indexOf(']'));
  return name.replace(/:\d*$/, '').replace(/\.$/, '');
}

/**
 * Pure: whether a response gets Strict-Transport-Security. Only when the visitor came over HTTPS
 * (the first X-Forwarded-Proto, which lb sets, is `https`): a browser ignores it over plain HTTP
 * (RFC 6797 §8.1), and web's own plain listener must not claim otherwise. Never for `localhost` or a
 * name under it: a browser keeps the policy per host name, on every port, so the local stack's
 * https://localhost:8443 would otherwise turn its http://localhost:8080 (and every other local
 * server on any port) into https for a year. (An IP address is never pinned: RFC 6797 §8.1.1.)
 */
export function sendsHsts(headers: { 'x-forwarded-proto'?: string | string[]; 'x-forwarded-host'?: string | string[]; host?: string }): boolean {
  const proto = headers['x-forwarded-proto'];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase();
  if (first !== 'https') return false;
  const host = requestHost(headers['x-forwarded-host'], headers.host);
  return host !== 'localhost' && !host.endsWith('.localhost');
}

/**
 * Sets `headers` on every response of `app` (pages, assets, health, 404 and 5xx alike), in one
 * onRequest hook; Strict-Transport-Security among them only where `sendsHsts` says so.
 */
export function installSecurityHeaders(app: FastifyInstance, headers: readonly Header[]): void {
  const always = headers.filter(([name]) => name !== HSTS);
  const hsts = headers.find(([name]) => name === HSTS);
  app.addHook('onRequest', (request, reply, done) => {
    for (const [name, value] of always) reply.header(name, value);
    if (hsts !== undefined && sendsHsts(request.headers)) reply.header(HSTS, hsts[1]);
    done();
  });
}
