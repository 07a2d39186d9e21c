import type { FastifyInstance } from 'fastify';

/** Why a body JSON.parse takes was refused: Fastify's parser refuses keys that poison JavaScript objects. */
export const POISONING_MESSAGE =
  'the body has a key named "__proto__", or a "constructor" holding a "prototype": the api refuses these anywhere ' +
  '(they are a way to poison JavaScript objects); rename the key';

/**
 * Fastify's own JSON parser (which refuses `__proto__`, and `constructor.prototype`, anywhere in a
 * body), saying so when that is why a body was refused: it would call such a body "not valid
 * JSON", which it is. Every other answer is the parser's, unchanged.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body: string, done) => {
    parse(request, body, (err, value) => {
      if (err && isJson(body)) done(Object.assign(new Error(POISONING_MESSAGE), { statusCode: 400 }), undefined);
      else done(err, value);
    });
  });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
