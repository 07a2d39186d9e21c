export { Rfc2136Provider } from './rfc2136.provider';
export { Rfc2136TxtRecords } from './txt';
export type { Rfc2136Settings, Rfc2136Options } from './client';
export { parseTsigKeyFile } from './key-file';
export type { TsigKey } from './tsig';
