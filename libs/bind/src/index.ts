export * from './lib/install';
export * from './lib/config';
export { BindServer } from './lib/server';
export { sweepStaleBind, BIND_DIR_PREFIX } from './lib/process';
export type { BindServerOptions } from './lib/server';
