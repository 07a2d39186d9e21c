export * from './lib/health';
export * from './lib/resume';
