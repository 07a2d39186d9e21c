import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { ValidateBy } from 'class-validator';

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Why `file` is not a usable PEM file of CA certificates (undefined: it is). Never repeats the path. */
export function caFileProblem(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return code === 'ENOENT' ? 'the file does not exist' : code === 'EACCES' ? 'the file may not be read (EACCES)' : code === 'EISDIR' ? 'it is a directory' : `the file cannot be read (${code})`;
  }
  const certs = text.match(PEM_CERT) ?? [];
  if (certs.length === 0) return 'the file holds no PEM certificate';
  for (const pem of certs) {
    try {
      new X509Certificate(pem);
    } catch {
      return 'the file holds a PEM block that is not a valid certificate';
    }
  }
  return undefined;
}

/** The CA certificate(s) of a PEM file; throws one line naming `setting` (an environment variable or option). */
export function readCaFile(file: string, setting: string): Buffer {
  const problem = caFileProblem(file);
  if (problem) throw new Error(`${setting} must be a readable PEM file of CA certificates: ${problem}`);
  return readFileSync(file);
}

/** class-validator: a path to a readable PEM file of CA certificates (a setting such as DB_TLS_CA). */
export const IsCaFile = () =>
  ValidateBy({
    name: 'isCaFile',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && value.length > 0 && caFileProblem(value) === undefined,
      defaultMessage: (args) => `must be a readable PEM file of CA certificates: ${typeof args?.value === 'string' && args.value ? caFileProblem(args.value) : 'no path given'}`,
    },
  });

const NOT_TRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/**
 * What a client-side TLS failure means, in words (undefined: the error is not one), from the error
 * of Node's TLS, the `mariadb` connector or mysql2 (which wraps it as HANDSHAKE_SSL_ERROR).
 */
export function clientTlsProblem(err: unknown): string | undefined {
  const e = (err ?? {}) as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  const message = (typeof e.message === 'string' ? e.message : '').replace(/\s*\(conn:[^)]*\)/, '').split('\n')[0];
  const detail = message.replace(/^certificate identify Error: /, '');
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'ER_TLS_IDENTITY_ERROR' || /does not match certificate's altnames/.test(message)) {
    return `TLS verification failed: the server's certificate does not name the host connected to (${detail})`;
  }
  if (NOT_TRUSTED.has(code) || /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate/i.test(message)) {
    return `TLS verification failed: the server's certificate is not signed by a trusted CA (${detail})`;
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID' || /certificate has expired|certificate is not yet valid/.test(message)) {
    return `TLS verification failed: the server's certificate is outside its validity period (${detail})`;
  }
  if (code === 'HANDSHAKE_SSL_ERROR' || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return `TLS failed: ${detail}`;
  return undefined;
}

export interface MariadbClientTls {
  ca: Buffer;
  rejectUnauthorized: true;
  checkServerIdentity: (name: string, cert: PeerCertificate) => Error | undefined;
}

/**
 * Client TLS options of the `mariadb` connector for a connection to `host`: the server's
 * certificate must chain to `ca` and name `host` (an IP address or DNS name in its subjectAltName).
 * The check is bound to `host` because Node's TLS, given a socket opened to an IP address, checks
 * the name "localhost" instead; the connector also runs it again after the handshake.
 */
export const mariadbClientTls = (ca: Buffer, host: string): MariadbClientTls => ({
  ca,
  rejectUnauthorized: true,
  checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert),
});
