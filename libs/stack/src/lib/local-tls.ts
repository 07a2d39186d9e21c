import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { caPaths, hostPaths, initCa, issueHostCert } from '@vita/sites';

/*
 * The local stack's HTTPS: a CA of its own (made once with the sites CA, kept in the stack's home
 * beside its secrets) and a certificate for this machine's loopback names, which lb serves. The CA
 * is limited by name constraints to those names, so trusting it in a browser trusts nothing else.
 */

/** What the local certificate is for: what a browser, curl or a test on this machine types. */
export const LOCAL_NAMES = { dns: ['localhost'], ips: ['127.0.0.1', '::1'] } as const;
/** What the local CA may vouch for (RFC 5280 name constraints): `localhost` and the names under it, the loopback ranges. */
export const LOCAL_CA_PERMITS = { dns: ['localhost'], ipRanges: ['127.0.0.0/8', '::1/128'] };
export const LOCAL_CA_NAME = 'Vita local CA';
/** A certificate (the CA or the leaf) with less than this left is made again at start. */
export const RENEW_WITHIN_DAYS = 30;
const LEAF_NAME = 'localhost';
const DAY_MS = 86_400_000;

/** What is known of a certificate file for the decisions below (read by `certFacts`). */
export interface CertFacts {
  notBefore: Date;
  notAfter: Date;
  /** Whether the CA's key signed it (`checkIssued` and the signature). */
  issuedByCa: boolean;
  /** Whether its private key file holds the key of this certificate. */
  keyMatches: boolean;
  /** The loopback names and addresses it is valid for. */
  covers: { dns: string[]; ips: string[] };
}

/** Pure: why the CA must be made (again), or null when it stays. Making it again means trusting it again. */
export function caVerdict(ca: Pick<CertFacts, 'notAfter' | 'keyMatches'> | undefined, now: number): string | null {
  if (ca === undefined) return 'there was none';
  if (!ca.keyMatches) return 'its key is missing or is not the key of ca.crt';
  const daysLeft = Math.floor((ca.notAfter.getTime() - now) / DAY_MS);
  if (daysLeft < RENEW_WITHIN_DAYS) return daysLeft < 0 ? `it expired ${-daysLeft} days ago` : `it expires in ${daysLeft} days`;
  return null;
}

/** Pure: why the certificate for localhost must be issued (again), or null when it stays. */
export function leafVerdict(leaf: CertFacts | undefined, now: number): string | null {
  if (leaf === undefined) return 'there was none';
  if (!leaf.issuedByCa) return 'it was not issued by the current CA';
  if (!leaf.keyMatches) return 'its key is missing or is not the key of the certificate';
  const missing = [...LOCAL_NAMES.dns.filter((n) => !leaf.covers.dns.includes(n)), ...LOCAL_NAMES.ips.filter((ip) => !leaf.covers.ips.includes(ip))];
  if (missing.length > 0) return `it does not name ${missing.join(', ')}`;
  if (leaf.notBefore.getTime() > now) return 'it is not valid yet (was the clock changed?)';
  const daysLeft = Math.floor((leaf.notAfter.getTime() - now) / DAY_MS);
  if (daysLeft < RENEW_WITHIN_DAYS) return daysLeft < 0 ? `it expired ${-daysLeft} days ago` : `it expires in ${daysLeft} days`;
  return null;
}

/** What the files of one key pair say (undefined when the certificate is missing or unreadable). */
export function certFacts(pair: { crt: string; key: string }, ca?: X509Certificate): CertFacts | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(pair.crt));
  } catch {
    return undefined;
  }
  let keyMatches = false;
  try {
    keyMatches = cert.checkPrivateKey(createPrivateKey(readFileSync(pair.key)));
  } catch {
    // missing or not a key: made again
  }
  return {
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    issuedByCa: ca !== undefined && cert.checkIssued(ca) && cert.verify(ca.publicKey),
    keyMatches,
    covers: { dns: LOCAL_NAMES.dns.filter((n) => cert.checkHost(n, { subject: 'never' }) !== undefined), ips: LOCAL_NAMES.ips.filter((ip) => cert.checkIP(ip) !== undefined) },
  };
}

export interface LocalTls {
  /** The CA certificate people trust (`<dir>/ca.crt`); its key is `<dir>/ca.key`, mode 600. */
  caCert: string;
  /** The certificate and key lb serves. */
  cert: string;
  key: string;
  /** Why the CA was made on this start (it must be trusted again), or null when it was kept. */
  caMade: string | null;
  /** Why the certificate was issued on this start, or null when it was kept. */
  leafIssued: string | null;
  notAfter: Date;
}

/**
 * The CA in `dir` (made when missing, unusable or near its end) and a certificate signed by it for
 * localhost, 127.0.0.1 and ::1 (issued when missing, not from this CA, or within
 * `RENEW_WITHIN_DAYS` of expiry). Everything else is kept as it is, so a CA trusted once stays trusted.
 */
export async function ensureLocalTls(dir: string, now = Date.now()): Promise<LocalTls> {
  const caFiles = caPaths(dir);
  const caMade = caVerdict(certFacts(caFiles), now);
  if (caMade !== null) await initCa({ dir, name: LOCAL_CA_NAME, permit: LOCAL_CA_PERMITS, force: existsSync(caFiles.crt) || existsSync(caFiles.key) });
  const ca = new X509Certificate(readFileSync(caFiles.crt));
  const leafFiles = hostPaths(dir, LEAF_NAME);
  const leafIssued = leafVerdict(certFacts(leafFiles, ca), now);
  if (leafIssued !== null) await issueHostCert({ dir, name: LEAF_NAME, dns: [...LOCAL_NAMES.dns], ips: [...LOCAL_NAMES.ips] });
  const notAfter = new Date(new X509Certificate(readFileSync(leafFiles.crt)).validTo);
  return { caCert: caFiles.crt, cert: leafFiles.crt, key: leafFiles.key, caMade, leafIssued, notAfter };
}
