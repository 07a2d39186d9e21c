import helmet from '@fastify/helmet';
import Fastify from 'fastify';
import type { WebEnv } from '../app/config/env';
import { Header, helmetOptions, HSTS } from '../app/security/security-headers';

/**
 * The headers a real @fastify/helmet adds to a response with web's settings (all it sends that a bare
 * Fastify does not), sorted by name: what every web response must carry, over HTTPS (`https`: lb
 * says so in X-Forwarded-Proto) or over plain HTTP, where Strict-Transport-Security is left out.
 */
export async function helmetReference(env: WebEnv, over: 'http' | 'https' = 'http'): Promise<Header[]> {
  const [helmeted, bare] = [Fastify(), Fastify()];
  await helmeted.register(helmet, helmetOptions(env));
  for (const app of [helmeted, bare]) app.get('/', async () => 'x');
  const [withHelmet, without] = [await helmeted.inject('/'), await bare.inject('/')];
  await Promise.all([helmeted.close(), bare.close()]);
  return Object.entries(withHelmet.headers)
    .filter(([name]) => !(name in without.headers))
    .map(([name, value]) => [name, String(value)] as const)
    .filter(([name]) => over === 'https' || name !== HSTS)
    .sort(([a], [b]) => a.localeCompare(b));
}
