export * from './lib/health';
export * from './lib/lb';
export * from './lib/replication';
export * from './lib/resume';
