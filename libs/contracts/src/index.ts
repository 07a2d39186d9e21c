export * from './lib/etag';
export * from './lib/health';
export * from './lib/lb';
export * from './lib/replication';
export * from './lib/resume';
export * from './lib/site-nodes';
export * from './lib/sites';
