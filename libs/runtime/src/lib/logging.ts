import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

interface WithHeaders {
  headers: IncomingHttpHeaders;
}
import type { Params } from 'nestjs-pino';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's x-request-id when it is well-formed, otherwise a new one. */
export function requestId(req: WithHeaders): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Fastify's genReqId: keeps a well-formed incoming x-request-id or makes one, and writes it back into
 * the request headers so every later reader (the access log, calls to other services) sees the same id.
 */
export function assignRequestId(req: WithHeaders): string {
  const id = requestId(req);
  req.headers['x-request-id'] = id;
  return id;
}

/**
 * Structured JSON access and application logs (pino), one request id per request, echoed in the
 * response; credentials redacted.
 */
export function loggerOptions(level: string): Params {
  return {
    pinoHttp: {
      level,
      // The id Fastify settled on (see assignRequestId) is in the header by now.
      genReqId: (req: WithHeaders) => requestId(req),
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
      },
    },
  };
}
