import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { freePort } from '@vita/testing';

/*
 * Let's Encrypt's test ACME server (Debian's `pebble`) on loopback for lb's tests: its own TLS pair,
 * real validation (no PEBBLE_VA_ALWAYS_VALID), names resolved through a DNS server the test runs.
 */

/** One HTTPS GET trusting `ca` (PEM text), bounded by `timeoutMs`. */
export function httpsGet(url: string, ca: string, timeoutMs = 2_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PebbleOptions {
  /** Where its key, certificate and configuration are written. */
  dir: string;
  /** `host:port` of the DNS server it resolves names through (for validation). */
  dnsServer: string;
  /** The port it validates http-01 on, at whatever address the name resolves to. */
  httpPort: number;
  /** Lifetime of the certificates it issues (default 1 h). */
  validitySeconds?: number;
}

export class Pebble {
  private child?: ChildProcess;
  output = '';

  private constructor(
    readonly acmePort: number,
    readonly mgmtPort: number,
    /** Its own HTTPS certificate (PEM), what a client of its directory trusts. */
    readonly tlsCert: string,
    /** The same, as a file. */
    readonly tlsCertFile: string,
    private readonly args: string[],
  ) {}

  get directoryUrl(): string {
    return `https://127.0.0.1:${this.acmePort}/dir`;
  }

  static async start(options: PebbleOptions): Promise<Pebble> {
    const { dir } = options;
    const cert = join(dir, 'pebble-cert.pem');
    const key = join(dir, 'pebble-key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=pebble-test', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    const acmePort = await freePort();
    const mgmtPort = await freePort();
    const config = {
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: cert,
        privateKey: key,
        httpPort: options.httpPort,
        tlsPort: await freePort(),
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        certificateValidityPeriod: options.validitySeconds ?? 3600,
      },
    };
    const configFile = join(dir, 'pebble.json');
    writeFileSync(configFile, JSON.stringify(config));
    const pebble = new Pebble(acmePort, mgmtPort, readFileSync(cert, 'utf8'), cert, ['-config', configFile, '-dnsserver', options.dnsServer]);
    await pebble.restart();
    return pebble;
  }

  /** (Re)starts the process with the same ports and settings; resolves once its directory answers. */
  async restart(): Promise<void> {
    if (this.child) return;
    const env: NodeJS.ProcessEnv = { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_AUTHZREUSE: '0' };
    delete env['PEBBLE_VA_ALWAYS_VALID'];
    const child = spawn('pebble', this.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const append = (d: Buffer) => (this.output = (this.output + d.toString()).slice(-64 * 1024));
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    child.once('exit', () => (this.child = undefined));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (!this.child) throw new Error(`pebble exited during startup:\n${this.output}`);
      try {
        if ((await httpsGet(this.directoryUrl, this.tlsCert, 500)).status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`pebble did not answer within 10 s:\n${this.output}`);
      }
      await sleep(100);
    }
  }

  /** The root its certificates chain to (a new one each time pebble starts). */
  async root(): Promise<string> {
    const got = await httpsGet(`https://127.0.0.1:${this.mgmtPort}/roots/0`, this.tlsCert);
    if (got.status !== 200) throw new Error(`roots/0: HTTP ${got.status}`);
    return got.body;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await gone;
    clearTimeout(timer);
  }
}

const pems = (chain: string): string[] => chain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

/** Every certificate of the chain is issued and signed by the next; the last by `rootPem`. */
export function verifiesAgainst(chain: string, rootPem: string): boolean {
  const certs = [...pems(chain), rootPem].map((p) => new X509Certificate(p));
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i].checkIssued(certs[i + 1]) || !certs[i].verify(certs[i + 1].publicKey)) return false;
  }
  return true;
}
