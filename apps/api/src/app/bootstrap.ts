import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import type { ApiEnv } from './config/env';
import { assignRequestId } from '@vita/runtime';

/** Largest accepted request body: a résumé is a few KiB; anything past 1 MiB is refused with 413. */
export const BODY_LIMIT = 1024 * 1024;

/** Builds the api (not yet listening). Used by main.ts and by the tests, so both run the same app. */
export async function createApi(env: ApiEnv): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(env),
    new FastifyAdapter({ bodyLimit: BODY_LIMIT, return503OnClosing: true, genReqId: assignRequestId }),
    { bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', request.id);
    });
  app.enableShutdownHooks();
  return app;
}
