import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caFileProblem, clientTlsProblem, readCaFile } from '../index';


describe('client TLS settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vita-mdb-tls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // A throw-away self-signed certificate, to tell a PEM file from a bad one.
  const cert = (): string => {
    const out = join(dir, 'self.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'self.key'), '-subj', '/CN=Test', '-days', '1', '-out', out], { stdio: 'ignore' });
    return readFileSync(out, 'utf8');
  };
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('a CA file must exist and hold only valid PEM certificates; errors name the setting, never the path', () => {
    const pem = cert();
    const good = file('good.pem', pem + pem);
    expect(caFileProblem(good)).toBeUndefined();
    expect(readCaFile(good, 'DB_TLS_CA').toString()).toBe(pem + pem);
    expect(caFileProblem(join(dir, 'missing.pem'))).toBe('the file does not exist');
    expect(caFileProblem(dir)).toBe('it is a directory');
    expect(caFileProblem(file('empty.pem', 'hello'))).toBe('the file holds no PEM certificate');
    expect(caFileProblem(file('bad.pem', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'))).toBe('the file holds a PEM block that is not a valid certificate');
    expect(() => readCaFile(join(dir, 'secret-name.pem'), 'REPL_TLS_CA')).toThrow(/^REPL_TLS_CA must be a readable PEM file of CA certificates: the file does not exist$/);
  });

  it('names what a TLS failure means, from Node, the mariadb connector and mysql2', () => {
    expect(clientTlsProblem({ code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: 127.0.0.2" })).toBe(
      "TLS verification failed: the server's certificate does not name the host connected to (Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: 127.0.0.2)",
    );
    expect(clientTlsProblem({ code: 'HANDSHAKE_SSL_ERROR', message: 'self-signed certificate in certificate chain' })).toMatch(/^TLS verification failed: the server's certificate is not signed by a trusted CA/);
    expect(clientTlsProblem({ code: 'SELF_SIGNED_CERT_IN_CHAIN', message: 'self-signed certificate in certificate chain' })).toMatch(/not signed by a trusted CA/);
    expect(clientTlsProblem({ code: 'CERT_HAS_EXPIRED', message: 'certificate has expired' })).toMatch(/outside its validity period/);
    expect(clientTlsProblem({ code: 'ER_ACCESS_DENIED_ERROR', message: 'Access denied' })).toBeUndefined();
    expect(clientTlsProblem(undefined)).toBeUndefined();
  });
});
