import { readFileSync } from 'node:fs';
import * as tls from 'node:tls';
import { CertificateSet } from '../https/certificates';
import { txtRecordsFrom, type TxtRecords, type TxtRecordsSettings } from '@vita/dns-providers';
import { certificateList, ConfigError, type Dns01Config, type LbConfig } from './config';

/*
 * The TLS material lb reads from files: the CA its https backups are verified against, and the
 * certificate and key of its peer listener. Read at start and every reload (so a bad file is refused
 * like any other setting), and by each data plane itself (a key never crosses the IPC channel).
 * Errors name the setting and the file, never the file's content.
 */

function read(file: string, key: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The certificates of the `backupCa` file (read at start and at each reload, by loadConfig). */
export function readBackupCa(file: string): string[] {
  const pem = read(file, 'backupCa');
  const certs = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (certs === null) throw new ConfigError(`backupCa: ${file} holds no PEM certificate`);
  try {
    tls.createSecureContext({ ca: certs });
  } catch (err) {
    throw new ConfigError(`backupCa: ${file} is not a usable CA file (${(err as NodeJS.ErrnoException).code ?? 'bad certificate'})`);
  }
  return certs;
}

/** The extra root(s) the ACME server's HTTPS is verified against (`https.acme.caFile`), as PEM text. */
export function readAcmeCa(file: string): string {
  const pem = read(file, 'https.acme.caFile');
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw new ConfigError(`https.acme.caFile: ${file} holds no PEM certificate`);
  try {
    tls.createSecureContext({ ca: pem });
  } catch (err) {
    throw new ConfigError(`https.acme.caFile: ${file} is not a usable CA file (${(err as NodeJS.ErrnoException).code ?? 'bad certificate'})`);
  }
  return pem;
}

/**
 * The TXT records DNS-01 writes (`https.acme.dns01`): the key file read and checked here; a bad field
 * is a ConfigError naming it, never the key.
 */
export function dns01Records(d: Dns01Config): TxtRecords {
  const { propagationMs: _propagation, ...fields } = d;
  const settings = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as unknown as TxtRecordsSettings;
  try {
    return txtRecordsFrom(settings);
  } catch (err) {
    throw new ConfigError(`https.acme.dns01: ${(err as Error).message}`);
  }
}

/**
 * The roots https backups are verified against: `backupCa`'s certificates as loaded (no file is read
 * here: this runs whenever the backups change), or the system store (`tls.getCACertificates('system')`
 * where Node has it; Node's own Mozilla list otherwise, as on Node 20).
 */
export function backupRoots(config: Pick<LbConfig, 'backupCaCerts'>): string[] | undefined {
  if (config.backupCaCerts !== undefined) return config.backupCaCerts;
  const system = (tls as { getCACertificates?: (kind: string) => string[] }).getCACertificates;
  const certs = system?.('system');
  return certs !== undefined && certs.length > 0 ? certs : undefined;
}

/** The peer listener's certificate and key, checked to form a usable pair; null when there is no peer listener. */
export function peerCredentials(config: Pick<LbConfig, 'peer'>): { cert: string; key: string } | null {
  const { listen, tlsCert, tlsKey } = config.peer;
  if (listen === undefined || tlsCert === undefined || tlsKey === undefined) return null;
  const cert = read(tlsCert, 'peer.tlsCert');
  const key = read(tlsKey, 'peer.tlsKey');
  try {
    tls.createSecureContext({ cert, key });
  } catch (err) {
    // (OpenSSL's message names the problem, not the key's content.)
    throw new ConfigError(`peer.tlsCert/peer.tlsKey: ${tlsCert} and ${tlsKey} are not a usable certificate and key (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  return { cert, key };
}

/** Reads every TLS file a configuration names (keeping the CA's certificates); throws a ConfigError naming the first one that is unusable. */
export function loadTlsFiles(config: LbConfig): void {
  if (config.backupCa !== undefined) config.backupCaCerts = readBackupCa(config.backupCa);
  peerCredentials(config);
  if (config.https?.acme?.caFile !== undefined) readAcmeCa(config.https.acme.caFile);
  const dns01 = config.https?.acme?.dns01;
  if (dns01 !== undefined) dns01Records(dns01).close();
  if (config.https !== undefined) {
    try {
      new CertificateSet().load(certificateList(config.https), true);
    } catch (err) {
      throw new ConfigError((err as Error).message);
    }
  }
}
