import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { LbCertificateStats } from '@vita/contracts';

/*
 * The visitors' certificates (`https.certificates`): PEM files read by every process that needs
 * them (the primary for checks and stats, each data plane for its listener: a key never crosses
 * the IPC channel). A file that cannot be used is refused with one line naming it; the
 * certificate loaded from it before stays in force.
 */

/** Mozilla's "intermediate" TLS 1.2 suites (TLS 1.3 suites are OpenSSL's defaults, all fine). */
export const INTERMEDIATE_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export interface CertificateFiles {
  cert: string;
  key: string;
  /** Files that may not exist yet (ACME's, before its first certificate): never fatal at start. */
  optional?: boolean;
}

export interface LoadedCertificate {
  files: CertificateFiles;
  /** DNS names of the certificate's SAN, lower-cased (`*.example.org` for a wildcard). */
  names: string[];
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  context: SecureContext;
  /** The PEM text (for the listener's default context). */
  pem: { cert: string; key: string };
}

/** The `DNS:` entries of a subjectAltName string, lower-cased. */
export function sanNames(subjectAltName: string | undefined): string[] {
  if (subjectAltName === undefined) return [];
  return subjectAltName
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4).toLowerCase());
}

/** Whether `host` (lower-case, no port) is `name`, or matches the wildcard `*.rest` in exactly one leading label. */
export function nameMatches(name: string, host: string): boolean {
  if (!name.startsWith('*.')) return name === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === name.slice(2);
}

/** The host of a Host header value, lower-cased, without its port; null when it is not a DNS name. */
export function hostName(value: string | undefined): string | null {
  if (value === undefined) return null;
  const host = value.replace(/:\d{1,5}$/, '').toLowerCase();
  return /^[a-z0-9]([a-z0-9-]{0,62}\.)*[a-z0-9-]{1,63}\.?$/.test(host) ? host.replace(/\.$/, '') : null;
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`https.certificates: cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Reads and checks one certificate and key; throws one line naming the file that is unusable (never its content). */
export function loadCertificate(files: CertificateFiles, now = Date.now()): LoadedCertificate {
  const certPem = readPem(files.cert, 'certificate');
  const keyPem = readPem(files.key, 'key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certPem);
  } catch {
    throw new Error(`https.certificates: ${files.cert} is not a PEM certificate`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new Error(`https.certificates: ${files.key} is not a PEM private key`);
  }
  if (!x509.checkPrivateKey(key)) throw new Error(`https.certificates: the key ${files.key} does not match the certificate ${files.cert}`);
  const notBefore = new Date(x509.validFrom);
  const notAfter = new Date(x509.validTo);
  if (notAfter.getTime() <= now) throw new Error(`https.certificates: ${files.cert} expired on ${notAfter.toISOString()}`);
  const names = sanNames(x509.subjectAltName);
  if (names.length === 0) throw new Error(`https.certificates: ${files.cert} names no DNS name in its subjectAltName`);
  let context: SecureContext;
  try {
    context = createSecureContext({ cert: certPem, key: keyPem, minVersion: 'TLSv1.2', ciphers: INTERMEDIATE_CIPHERS });
  } catch (err) {
    throw new Error(`https.certificates: ${files.cert} and ${files.key} are not a usable certificate and key (${(err as NodeJS.ErrnoException).code ?? 'unusable'})`);
  }
  return { files, names, issuer: x509.issuer.replace(/\n/g, ', '), notBefore, notAfter, context, pem: { cert: certPem, key: keyPem } };
}

interface Slot {
  files: CertificateFiles;
  current: LoadedCertificate | null;
  loadedAt: Date | null;
  error: string | null;
  /** mtime and size of both files when last read. */
  stamp: string;
}

const stampOf = (files: CertificateFiles): string => {
  const one = (file: string) => {
    try {
      const s = statSync(file);
      return `${s.mtimeMs}/${s.size}`;
    } catch {
      return 'missing';
    }
  };
  return `${one(files.cert)}|${one(files.key)}`;
};

/** The certificates in force, one slot per configured pair, the first the default. */
export class CertificateSet {
  private slots: Slot[] = [];

  /**
   * (Re)reads every configured pair. A pair that fails keeps what it served before (and records the
   * error); with `strict` (at start, when nothing was served yet) the first failure of a pair that is
   * not `optional` is thrown.
   * Returns the errors, one line each.
   */
  load(list: CertificateFiles[], strict: boolean): string[] {
    const previous = new Map(this.slots.map((s) => [`${s.files.cert}\n${s.files.key}`, s]));
    const errors: string[] = [];
    this.slots = list.map((files) => {
      const old = previous.get(`${files.cert}\n${files.key}`);
      const stamp = stampOf(files);
      try {
        return { files, current: loadCertificate(files), loadedAt: new Date(), error: null, stamp };
      } catch (err) {
        const error = (err as Error).message;
        if (strict && old?.current == null && files.optional !== true) throw err;
        errors.push(error);
        return { files, current: old?.current ?? null, loadedAt: old?.loadedAt ?? null, error, stamp };
      }
    });
    return errors;
  }

  /** Whether a file changed (mtime or size) since it was last read. */
  changed(): boolean {
    return this.slots.some((s) => stampOf(s.files) !== s.stamp);
  }

  private get loaded(): LoadedCertificate[] {
    return this.slots.flatMap((s) => (s.current === null ? [] : [s.current]));
  }

  /** The certificate for an SNI name: the first whose names match, else the default (first) one. */
  pick(servername: string | undefined): LoadedCertificate | undefined {
    const all = this.loaded;
    const host = servername?.toLowerCase();
    if (host !== undefined) for (const c of all) if (c.names.some((n) => nameMatches(n, host))) return c;
    return all[0];
  }

  /** Whether some certificate serves `host` (lower-case, no port). */
  serves(host: string): boolean {
    return this.loaded.some((c) => c.names.some((n) => nameMatches(n, host)));
  }

  stats(now = Date.now()): LbCertificateStats[] {
    return this.slots.map((s) => ({
      file: s.files.cert,
      names: s.current?.names ?? [],
      issuer: s.current?.issuer ?? null,
      notBefore: s.current?.notBefore.toISOString() ?? null,
      notAfter: s.current?.notAfter.toISOString() ?? null,
      daysLeft: s.current === null ? null : Math.floor((s.current.notAfter.getTime() - now) / 86_400_000),
      lastReload: s.loadedAt?.toISOString() ?? null,
      lastReloadError: s.error,
    }));
  }
}
