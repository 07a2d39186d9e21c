import { execFile } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeSync,
} from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * A small internal certificate authority for the TLS links between Vita's hosts (MariaDB
 * replication, the api and repl-admin to MariaDB). Keys and certificates are made by the openssl
 * command (argument arrays, no secret on a command line: the CA key has no passphrase and is a
 * mode-600 file). Every key pair is swapped in whole: `NAME.key` and `NAME.crt` are links into
 * `.NAME.live`, itself a link to a complete generation directory, replaced with one rename.
 */

/** Bad input: `flag` is the command-line flag (or option) it concerns. */
export class CaInputError extends Error {
  constructor(
    readonly flag: string,
    message: string,
  ) {
    super(`${flag}: ${message}`);
    this.name = 'CaInputError';
  }
}

export interface KeyPairPaths {
  key: string;
  crt: string;
}

export interface InitCaOptions {
  dir: string;
  /** Common name of the CA certificate (default "Vita CA"). */
  name?: string;
  /** Validity in days (default 3650). */
  days?: number;
  /** Replace an existing CA (every certificate it issued stops verifying against the new one). */
  force?: boolean;
  /**
   * Name constraints (RFC 5280 §4.2.1.10, critical): the only names and addresses the CA may vouch
   * for. A certificate it signs for anything else fails verification, so a CA people are asked to
   * trust in their browsers cannot be used against other sites even if its key leaks. Unset: none.
   */
  permit?: { dns?: string[]; ipRanges?: string[] };
}

export interface IssueOptions {
  dir: string;
  /** Host name: the files are `<name>.key` and `<name>.crt`, the subject is CN=<name>. */
  name: string;
  ips?: string[];
  dns?: string[];
  /** Validity in days (default 397). */
  days?: number;
}

export interface CertSummary {
  file: string;
  subject: string;
  issuer: string;
  /** As Node prints it: `IP Address:127.0.0.2, DNS:db.example`. */
  subjectAltName: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 fingerprint, colon-separated hex. */
  fingerprint256: string;
}

export const CA_BASENAME = 'ca';
const HOST_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?$/;
const DNS_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DNS_NAME = new RegExp(`^(?:\\*\\.)?${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);
const CA_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;
const OPENSSL_TIMEOUT_MS = 30_000;

export const caPaths = (dir: string): KeyPairPaths => pairPaths(dir, CA_BASENAME);
export const hostPaths = (dir: string, name: string): KeyPairPaths => pairPaths(dir, checkHostName(name));

function pairPaths(dir: string, base: string): KeyPairPaths {
  const d = resolve(dir);
  return { key: join(d, `${base}.key`), crt: join(d, `${base}.crt`) };
}

/** A host name fit for file names and a certificate subject; throws naming `--name`. */
export function checkHostName(name: string): string {
  if (!HOST_NAME.test(name)) throw new CaInputError('--name', `"${name}" must be 1-64 letters, digits, . _ - (starting and ending with a letter or digit)`);
  if (name === CA_BASENAME) throw new CaInputError('--name', `"${CA_BASENAME}" is the CA's own name: choose another`);
  return name;
}

/** IP addresses (v4 or v6) for the subjectAltName; throws naming `--ip`. */
export function checkIps(ips: string[]): string[] {
  for (const ip of ips) if (isIP(ip) === 0) throw new CaInputError('--ip', `"${ip}" is not an IP address`);
  return ips;
}

/** DNS names (a leading `*.` allowed) for the subjectAltName; throws naming `--dns`. */
export function checkDnsNames(names: string[]): string[] {
  for (const n of names) if (n.length > 253 || !DNS_NAME.test(n)) throw new CaInputError('--dns', `"${n}" is not a DNS name`);
  return names;
}

/** A whole number of days from 1 to 36500; throws naming `--days`. */
export function checkDays(days: number): number {
  if (!Number.isInteger(days) || days < 1 || days > 36_500) throw new CaInputError('--days', 'must be a whole number of days from 1 to 36500');
  return days;
}

/** The bytes of an IP address (4 or 16); the address is known to be valid (isIP). */
function ipBytes(address: string): number[] {
  if (isIP(address) === 4) return address.split('.').map(Number);
  // An embedded IPv4 tail (::ffff:192.0.2.1) as its two 16-bit groups.
  const text = address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_, a: string, b: string, c: string, d: string) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const words = (part: string | undefined): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const [front, back] = [words(head), words(tail)];
  const all = tail === undefined ? front : [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
  return all.flatMap((w) => [w >> 8, w & 0xff]);
}

/**
 * IP ranges (`127.0.0.0/8`, `::1/128`) as openssl writes a name constraint
 * (`IP:127.0.0.0/255.0.0.0`); throws naming `--permit-ip`, also for an address with bits set past
 * the prefix (openssl would then match nothing).
 */
export function ipRangeConstraints(ranges: string[]): string[] {
  return ranges.map((range) => {
    const [address = '', bits = '', ...rest] = range.split('/');
    const family = isIP(address);
    const width = family === 6 ? 128 : 32;
    if (family === 0 || rest.length > 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > width) {
      throw new CaInputError('--permit-ip', `"${range}" is not an address range such as 127.0.0.0/8 or ::1/128`);
    }
    const mask = Array.from({ length: width / 8 }, (_, i) => 0xff & ~(0xff >> Math.max(0, Math.min(8, Number(bits) - i * 8))));
    if (ipBytes(address).some((b, i) => (b & ~mask[i]) !== 0)) throw new CaInputError('--permit-ip', `"${range}" has bits set past its prefix: give the range's first address`);
    const text = family === 4 ? mask.join('.') : Array.from({ length: 8 }, (_, i) => ((mask[2 * i] << 8) | mask[2 * i + 1]).toString(16)).join(':');
    return `IP:${address}/${text}`;
  });
}

/** The `nameConstraints` line of a CA limited to `permit`; undefined when nothing is given. */
function nameConstraints(permit: InitCaOptions['permit']): string | undefined {
  const dns = permit?.dns ?? [];
  for (const n of dns) if (n.startsWith('*.') || !DNS_NAME.test(n)) throw new CaInputError('--permit-dns', `"${n}" is not a DNS name (a constraint covers the name and every name under it)`);
  const entries = [...dns.map((n) => `DNS:${n}`), ...ipRangeConstraints(permit?.ipRanges ?? [])];
  return entries.length > 0 ? `nameConstraints = critical,${entries.map((e) => `permitted;${e}`).join(',')}` : undefined;
}

function checkDir(dir: string): string {
  if (!dir) throw new CaInputError('--dir', 'is required');
  return resolve(dir);
}

function openssl(args: string[]): Promise<void> {
  return new Promise((done, fail) => {
    execFile('openssl', args, { timeout: OPENSSL_TIMEOUT_MS, encoding: 'utf8' }, (err, _stdout, stderr) => {
      if (!err) return done();
      const why = stderr.split('\n').find((l) => l.trim()) ?? err.message;
      fail(new Error(`openssl ${args[0]} failed: ${why.trim()}`));
    });
  });
}

/** Writes a whole file, flushed to disk, with `mode`; fails if it exists. */
function writeNew(file: string, text: string, mode: number): void {
  const fd = openSync(file, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(file, mode);
}

/** An empty file only its owner may read, for openssl to write a private key into. */
function privateFile(file: string): string {
  writeNew(file, '', 0o600);
  return file;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const liveLink = (base: string): string => `.${base}.live`;
const isGeneration = (base: string, entry: string): boolean => entry.startsWith(`.${base}.g-`);

/** Replaces `link` by a symbolic link to `target` in one rename. */
function swapLink(link: string, target: string): void {
  const tmp = `${link}.tmp-${randomBytes(6).toString('hex')}`;
  symlinkSync(target, tmp);
  renameSync(tmp, link);
}

/**
 * Makes a new generation directory for `base`, lets `fill` write `key` and `crt` into it, then
 * makes it the live one with one rename; older generations are removed. A crash at any point
 * leaves the previous pair, or the new one, never a mix.
 */
async function replacePair(dir: string, base: string, fill: (gen: KeyPairPaths, scratch: string) => Promise<void>): Promise<KeyPairPaths> {
  const genName = `.${base}.g-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const gen = join(dir, genName);
  mkdirSync(gen, { mode: 0o755 });
  const files = { key: join(gen, 'key'), crt: join(gen, 'crt') };
  const scratch = join(gen, 'scratch');
  mkdirSync(scratch, { mode: 0o700 });
  try {
    await fill(files, scratch);
    rmSync(scratch, { recursive: true, force: true });
    chmodSync(files.key, 0o600);
    chmodSync(files.crt, 0o644);
    fsyncDir(gen);
  } catch (err) {
    rmSync(gen, { recursive: true, force: true });
    throw err;
  }
  swapLink(join(dir, liveLink(base)), genName);
  const paths = pairPaths(dir, base);
  for (const [file, inside] of [[paths.key, 'key'], [paths.crt, 'crt']] as const) {
    const target = join(liveLink(base), inside);
    if (!isLink(file) || readlinkSync(file) !== target) swapLink(file, target);
  }
  fsyncDir(dir);
  for (const entry of readdirSync(dir)) {
    if (isGeneration(base, entry) && entry !== genName) rmSync(join(dir, entry), { recursive: true, force: true });
  }
  return paths;
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Creates DIR/ca.key (mode 600) and DIR/ca.crt (limited to `permit` when given); refuses to replace an existing CA unless `force`. */
export async function initCa(opts: InitCaOptions): Promise<KeyPairPaths> {
  const dir = checkDir(opts.dir);
  const name = opts.name ?? 'Vita CA';
  if (!CA_NAME.test(name)) throw new CaInputError('--name', 'the CA name must be 1-64 letters, digits, spaces, . _ -');
  const days = checkDays(opts.days ?? 3650);
  const constraints = nameConstraints(opts.permit);
  const existing = caPaths(dir);
  if (!opts.force && (existsSync(existing.key) || existsSync(existing.crt))) {
    throw new CaInputError('--dir', `${dir} already holds a CA (ca.key/ca.crt); it was left as it is (--force replaces it, and every certificate it issued then stops verifying)`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  return replacePair(dir, CA_BASENAME, async (gen, scratch) => {
    const config = join(scratch, 'req.cnf');
    writeNew(
      config,
      [
        '[req]',
        'distinguished_name = dn',
        'prompt = no',
        'x509_extensions = v3_ca',
        '[dn]',
        `CN = ${name}`,
        '[v3_ca]',
        'basicConstraints = critical,CA:TRUE,pathlen:0',
        'keyUsage = critical,keyCertSign,cRLSign',
        ...(constraints ? [constraints] : []),
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid:always',
        '',
      ].join('\n'),
      0o600,
    );
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', privateFile(gen.key)]);
    await openssl(['req', '-new', '-x509', '-config', config, '-key', gen.key, '-sha256', '-days', String(days), '-set_serial', serial(), '-out', gen.crt]);
  });
}

const serial = (): string => {
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f; // a positive serial
  return `0x${bytes.toString('hex')}`;
};

/**
 * Creates (or replaces: that is rotating a host's certificate) DIR/NAME.key (mode 600) and
 * DIR/NAME.crt, signed by the CA in DIR, for the given IP addresses and DNS names (at least one),
 * usable by a server and by a client (serverAuth, clientAuth).
 */
export async function issueHostCert(opts: IssueOptions): Promise<KeyPairPaths> {
  const dir = checkDir(opts.dir);
  const name = checkHostName(opts.name);
  const ips = checkIps(opts.ips ?? []);
  const dns = checkDnsNames(opts.dns ?? []);
  if (ips.length + dns.length === 0) throw new CaInputError('--ip', 'give at least one IP address (--ip) or DNS name (--dns) the host is reached at');
  const days = checkDays(opts.days ?? 397);
  const ca = caPaths(dir);
  if (!existsSync(ca.key) || !existsSync(ca.crt)) throw new CaInputError('--dir', `${dir} holds no CA (ca.key and ca.crt): run init first`);
  const san = [...ips.map((ip) => `IP:${ip}`), ...dns.map((n) => `DNS:${n}`)].join(',');
  return replacePair(dir, name, async (gen, scratch) => {
    const config = join(scratch, 'req.cnf');
    const ext = join(scratch, 'ext.cnf');
    const csr = join(scratch, 'host.csr');
    writeNew(config, ['[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = ${name}`, ''].join('\n'), 0o600);
    writeNew(
      ext,
      [
        '[v3_host]',
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature',
        'extendedKeyUsage = serverAuth,clientAuth',
        `subjectAltName = ${san}`,
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid',
        '',
      ].join('\n'),
      0o600,
    );
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', privateFile(gen.key)]);
    await openssl(['req', '-new', '-config', config, '-key', gen.key, '-sha256', '-out', csr]);
    await openssl([
      'x509', '-req', '-in', csr, '-CA', ca.crt, '-CAkey', ca.key, '-set_serial', serial(), '-days', String(days), '-sha256',
      '-extfile', ext, '-extensions', 'v3_host', '-out', gen.crt,
    ]);
  });
}

/** Subject, issuer, SAN, validity and fingerprint of a PEM certificate file. */
export function describeCert(file: string): CertSummary {
  const cert = new X509Certificate(readFileSync(file));
  return {
    file,
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    subjectAltName: cert.subjectAltName ?? '',
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    fingerprint256: cert.fingerprint256,
  };
}

/** The CA's certificate and every host certificate in DIR (or only NAME's). */
export function showCerts(opts: { dir: string; name?: string }): CertSummary[] {
  const dir = checkDir(opts.dir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CaInputError('--dir', `${dir} is not a directory`);
  if (opts.name !== undefined) {
    const { crt } = hostPaths(dir, opts.name);
    if (!existsSync(crt)) throw new CaInputError('--name', `${dir} holds no certificate for "${opts.name}"`);
    return [describeCert(crt)];
  }
  const crts = readdirSync(dir)
    .filter((f) => f.endsWith('.crt') && !f.startsWith('.'))
    .sort((a, b) => (a === `${CA_BASENAME}.crt` ? -1 : b === `${CA_BASENAME}.crt` ? 1 : a.localeCompare(b)));
  if (crts.length === 0) throw new CaInputError('--dir', `${dir} holds no certificate: run init first`);
  return crts.map((f) => describeCert(join(dir, f)));
}

/** Lines an operator reads, one block per certificate. */
export function formatCert(c: CertSummary, now = Date.now()): string {
  const days = Math.floor((c.notAfter.getTime() - now) / 86_400_000);
  return [
    c.file,
    `  subject:     ${c.subject}`,
    `  issuer:      ${c.issuer}`,
    `  SAN:         ${c.subjectAltName || '(none)'}`,
    `  not after:   ${c.notAfter.toISOString()} (${days >= 0 ? `in ${days} days` : `expired ${-days} days ago`})`,
    `  sha256:      ${c.fingerprint256}`,
  ].join('\n');
}
