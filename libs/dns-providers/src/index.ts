// The DNS update clients: publish and read record sets over RFC 2136 (+ TSIG) or the Route 53 API.
export { ProviderError, RECORD_TYPES } from './lib/provider';
export type { DnsProvider, ProviderErrorKind, RecordSet, RecordType } from './lib/provider';
export * from './lib/rfc2136';
export * from './lib/route53';

// TXT records for ACME DNS-01 (`_acme-challenge.<name>`), on either provider.
export type { TxtRecords } from './lib/txt/txt-records';
export { txtRecordsFrom } from './lib/txt/factory';
export type { Rfc2136TxtSettings, Route53TxtSettings, TxtRecordsFromOptions, TxtRecordsSettings } from './lib/txt/factory';

// Test support: a local Route 53 API stand-in (AWS cannot be reached from the test machines).
export { startRoute53Standin } from './test/route53-standin';
export type { Route53Standin, StandinLogEntry, StandinOptions, StandinRecordSet, StandinRequestKind } from './test/route53-standin';
