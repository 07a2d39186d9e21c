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

/** Sets `headers` on every response of `app` (pages, assets, health, 404 and 5xx alike), in one onRequest hook. */
export function installSecurityHeaders(app: FastifyInstance, headers: readonly Header[]): void {
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of headers) reply.header(name, value);
    done();
  });
}
