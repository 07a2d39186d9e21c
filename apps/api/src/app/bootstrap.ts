import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, fastifyLogging, installRequestLogging, PinoNestLogger } from '@vita/runtime';
import { AppModule } from './app.module';
import type { ApiEnv } from './config/env';
import { installJsonBodyParser } from './json-body';

/** Largest accepted request body: a résumé is a few KiB; anything past 1 MiB is refused with 413. */
export const BODY_LIMIT = 1024 * 1024;

/** Builds the api (not yet listening). Used by main.ts and by the tests, so both run the same app. */
export async function createApi(env: ApiEnv): Promise<NestFastifyApplication> {
  const logger = createLogger('api', env.LOG_LEVEL);
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT, return503OnClosing: true, ...fastifyLogging(logger) });
  installRequestLogging(adapter.getInstance(), logger);
  installJsonBodyParser(adapter.getInstance());
  // Bodies are parsed by installJsonBodyParser alone: JSON is the only type the api takes (any other is 415).
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(env), adapter, { logger: new PinoNestLogger(logger), bodyParser: false });
  app.enableShutdownHooks();
  return app;
}
