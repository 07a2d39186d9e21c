export { Route53Provider } from './route53.provider';
export { Route53TxtRecords } from './txt';
export type { Route53Credentials, Route53Settings } from './settings';
