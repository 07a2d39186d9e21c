export * from './lib/health';
