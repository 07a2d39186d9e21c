import Fastify from 'fastify';
import { readFileSync } from 'node:fs';

// The reference for the api benchmark: a bare Fastify route returning the same JSON from memory.
const [file, port] = process.argv.slice(2);
const json = readFileSync(file, 'utf8');
const app = Fastify({ logger: false });
app.get('/api/v1/resume', (_req, reply) => reply.type('application/json; charset=utf-8').send(json));
app.listen({ host: '127.0.0.1', port: Number(port) }).then(() => process.send?.('ready'));
