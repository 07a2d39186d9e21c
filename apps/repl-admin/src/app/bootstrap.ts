import { NestFactory } from '@nestjs/core';
import { readFileSync } from 'node:fs';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger, fastifyLogging, installRequestLogging, PinoNestLogger } from '@vita/runtime';
import { AppModule } from './app.module';
import type { ReplConfig } from './config/config';

/** Action bodies are a reason and a few flags. */
const BODY_LIMIT = 64 * 1024;

/** A file a setting names; the error names the setting. */
function readSetting(variable: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${variable}: ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/** Builds repl-admin (not yet listening). Used by main.ts and by the tests, so both run the same app. */
export async function createReplAdmin(config: ReplConfig): Promise<NestFastifyApplication> {
  const logger = createLogger('repl-admin', config.env.LOG_LEVEL);
  const { REPL_HTTPS_CERT: cert, REPL_HTTPS_KEY: key } = config.env;
  const https = cert && key ? { https: { cert: readSetting('REPL_HTTPS_CERT', cert), key: readSetting('REPL_HTTPS_KEY', key) } } : {};
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT, return503OnClosing: true, ...https, ...fastifyLogging(logger) });
  installRequestLogging(adapter.getInstance(), logger);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config), adapter, { logger: new PinoNestLogger(logger) });
  app.enableShutdownHooks();
  return app;
}
