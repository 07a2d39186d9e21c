export * from './lib/mariadb';
