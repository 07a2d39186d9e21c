import view from '@fastify/view';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { asyncStdout, BatchedDestination, createLogger, fastifyLogging, installRequestLogging, LogDestination, PinoNestLogger } from '@vita/runtime';
import { Eta } from 'eta';
import { resourceDir } from './static/assets';
import { AppModule } from './app.module';
import type { WebEnv } from './config/env';
import { captureHelmetHeaders, helmetOptions, installSecurityHeaders } from './security/security-headers';

export interface WebOptions {
  /** Where the log lines go (a test reads them); by default standard output. */
  logDestination?: LogDestination;
}

/** Builds web (not yet listening). Used by main.ts and by the tests, so both run the same app. */
export async function createWeb(env: WebEnv, options: WebOptions = {}): Promise<NestFastifyApplication> {
  // A line per request (the access log): written to standard output in batches, every 100 ms at most.
  const logger = createLogger('web', env.LOG_LEVEL, options.logDestination ?? new BatchedDestination(asyncStdout()));
  const adapter = new FastifyAdapter({ bodyLimit: 16 * 1024, return503OnClosing: true, ...fastifyLogging(logger, { sample: env.ACCESS_LOG_SAMPLE }) });
  installRequestLogging(adapter.getInstance(), logger);
  installSecurityHeaders(adapter.getInstance(), await captureHelmetHeaders(helmetOptions(env)));
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(env), adapter, { logger: new PinoNestLogger(logger) });
  await app.register(view, { engine: { eta: new Eta() }, root: resourceDir('views'), viewExt: 'eta' });
  app.enableShutdownHooks();
  return app;
}
