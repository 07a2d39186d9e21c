export * from './lib/env';
export * from './lib/logging';
export * from './lib/env.module';
export * from './lib/admin-token.guard';
export * from './lib/env-file';
export * from './lib/alerts';
export * from './lib/status-page';
