export * from './lib/secrets';
export * from './lib/stack';
