import Fastify, { type FastifyInstance } from 'fastify';
import { installJsonBodyParser, POISONING_MESSAGE } from './json-body';

describe('the api’s JSON body parser', () => {
  let app: FastifyInstance;
  const put = (payload: string) => app.inject({ method: 'PUT', url: '/', payload, headers: { 'content-type': 'application/json; charset=utf-8' } });

  beforeAll(async () => {
    app = Fastify({ bodyLimit: 1024 });
    installJsonBodyParser(app);
    app.put('/', async (request) => ({ got: request.body }));
    await app.ready();
  });
  afterAll(() => app.close());

  it('parses JSON as Fastify does, keys like "constructor" and "toString" included', async () => {
    const res = await put('{"a":[1,"x",null],"constructor":{"name":1},"toString":"t"}');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ got: { a: [1, 'x', null], constructor: { name: 1 }, toString: 't' } });
  });

  it.each([
    ['a "__proto__" key', '{"basics":{"__proto__":{"name":"x"}}}'],
    ['a "__proto__" key at the top', '{"__proto__":1}'],
    ['a "constructor" holding a "prototype"', '{"x":[{"constructor":{"prototype":{}}}]}'],
  ])('refuses %s, saying why (not "not valid JSON")', async (_name, payload) => {
    const res = await put(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe(POISONING_MESSAGE);
  });

  it.each([
    ['malformed JSON', '{"basics": ', 400, /not valid JSON/],
    ['an empty body', '', 400, /empty/i],
    ['a body over the limit', JSON.stringify({ x: 'x'.repeat(2000) }), 413, /too large/i],
  ])('answers %s as Fastify does', async (_name, payload, status, message) => {
    const res = await put(payload);
    expect(res.statusCode).toBe(status);
    expect(res.json().message).toMatch(message);
  });
});
