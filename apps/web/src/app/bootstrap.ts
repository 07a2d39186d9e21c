import helmet from '@fastify/helmet';
import view from '@fastify/view';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, fastifyLogging, installRequestLogging, PinoNestLogger } from '@vita/runtime';
import { Eta } from 'eta';
import { resourceDir } from './static/assets';
import { AppModule } from './app.module';
import type { WebEnv } from './config/env';

/** Builds web (not yet listening). Used by main.ts and by the tests, so both run the same app. */
export async function createWeb(env: WebEnv): Promise<NestFastifyApplication> {
  const logger = createLogger('web', env.LOG_LEVEL);
  const adapter = new FastifyAdapter({ bodyLimit: 16 * 1024, return503OnClosing: true, ...fastifyLogging(logger) });
  installRequestLogging(adapter.getInstance(), logger);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(env), adapter, { logger: new PinoNestLogger(logger) });
  const assetOrigin = env.ASSET_BASE_URL ? [new URL(env.ASSET_BASE_URL).origin] : [];
  await app.register(helmet, {
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
  });
  await app.register(view, { engine: { eta: new Eta() }, root: resourceDir('views'), viewExt: 'eta' });
  app.enableShutdownHooks();
  return app;
}
