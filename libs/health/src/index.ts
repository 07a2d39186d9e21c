export * from './lib/health.types';
export * from './lib/health.service';
export * from './lib/health.controller';
export * from './lib/health.module';
export * from './lib/healthcheck';
