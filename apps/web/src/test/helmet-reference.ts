import helmet from '@fastify/helmet';
import Fastify from 'fastify';
import type { WebEnv } from '../app/config/env';
import { Header, helmetOptions } from '../app/security/security-headers';

/**
 * The headers a real @fastify/helmet adds to a response with web's settings (all it sends that a bare
 * Fastify does not), sorted by name: what every web response must carry.
 */
export async function helmetReference(env: WebEnv): Promise<Header[]> {
  const [helmeted, bare] = [Fastify(), Fastify()];
  await helmeted.register(helmet, helmetOptions(env));
  for (const app of [helmeted, bare]) app.get('/', async () => 'x');
  const [withHelmet, without] = [await helmeted.inject('/'), await bare.inject('/')];
  await Promise.all([helmeted.close(), bare.close()]);
  return Object.entries(withHelmet.headers)
    .filter(([name]) => !(name in without.headers))
    .map(([name, value]) => [name, String(value)] as const)
    .sort(([a], [b]) => a.localeCompare(b));
}
