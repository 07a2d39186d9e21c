/** Why a TLS peer's certificate was refused, by OpenSSL's (and Node's) error code. */
const REFUSED: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is not signed by a trusted CA (backupCa)',
  UNABLE_TO_GET_ISSUER_CERT: 'its certificate is not signed by a trusted CA (backupCa)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its certificate is not signed by a trusted CA (backupCa)',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate chain ends in a CA that is not trusted (backupCa)',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed and not trusted (backupCa)',
  CERT_HAS_EXPIRED: 'its certificate has expired',
  CERT_NOT_YET_VALID: 'its certificate is not valid yet',
  CERT_REVOKED: 'its certificate is revoked',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate does not name the host of the URL',
};

/**
 * A one-line reason for a failed connection to an https backup: what was wrong with the
 * certificate when that is why, else the error code as it came.
 */
export function describeConnectError(code: string, host: string): string {
  const refused = REFUSED[code];
  if (refused === undefined) return code;
  return `TLS: ${code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? `its certificate does not name ${host}` : refused} (${code})`;
}
