export * from './lib/env';
export * from './lib/logging';
export * from './lib/env.module';
export * from './lib/admin-token.guard';
