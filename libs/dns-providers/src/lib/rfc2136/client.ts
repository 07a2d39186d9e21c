import { isIPv6, Socket } from 'node:net';
import { ProviderError, ProviderErrorKind } from '../provider';
import { signRequest, TsigKey, TsigVerdict, verifyTsig } from './tsig';
import { tcpExchange, TransportError } from './transport';
import { DecodedMessage, decodeMessage, encodeMessage, encodeName, Message, RCODE, rcodeName, WireError } from './wire';

export interface Rfc2136Settings {
  /** The provider's label (default `rfc2136`). */
  id?: string;
  /** The primary server that accepts updates (and answers the reads). */
  server: { host: string; port: number };
  /** The zone the names live in, e.g. `vita.example`. */
  zone: string;
  key: TsigKey;
  /** Bound on each exchange (connect, send, answer). */
  timeoutMs: number;
}

export interface Rfc2136Options {
  /** The clock TSIG signs and checks with, in ms since the epoch (default Date.now). */
  now?: () => number;
}

export const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');

/** Where `name` stands relative to `zone`: inside (or the apex) or not. Pure. */
export function inZone(name: string, zone: string): boolean {
  const n = norm(name);
  const z = norm(zone);
  return n === z || n.endsWith(`.${z}`);
}

/** What an UPDATE's RCODE means for the caller (after TSIG was checked); undefined for success. Pure. */
export function updateFailureKind(rcode: number): ProviderErrorKind | undefined {
  switch (rcode) {
    case RCODE.NOERROR:
      return undefined;
    case RCODE.NXRRSET:
    case RCODE.YXRRSET:
    case RCODE.NXDOMAIN:
    case RCODE.YXDOMAIN:
      return 'conflict';
    // Signed by our key, so the server knows us: NOTAUTH here means it is not authoritative for the zone.
    case RCODE.NOTAUTH:
    case RCODE.NOTZONE:
      return 'config';
    default:
      return 'refused';
  }
}

const RCODE_HINTS: Partial<Record<number, string>> = {
  [RCODE.NXRRSET]: 'the server no longer serves the expected set',
  [RCODE.YXRRSET]: 'the set exists where none was expected',
  [RCODE.NOTAUTH]: 'the server is not authoritative for the zone',
  [RCODE.NOTZONE]: 'the name is not in the zone',
  [RCODE.REFUSED]: 'the server refused it',
  [RCODE.SERVFAIL]: 'the server failed',
};

/**
 * One RFC 2136 server and zone, spoken to with TSIG-signed (hmac-sha256) messages over TCP: the
 * settings checked once, every exchange bounded, every answer's signature verified, and failures as
 * ProviderErrors of one line naming the server, never the secret. Used by every writer here.
 */
export class Rfc2136Client {
  readonly id: string;
  readonly zone: string;
  private readonly where: string;
  private readonly sockets = new Set<Socket>();
  private readonly now: () => number;

  constructor(
    private readonly settings: Rfc2136Settings,
    options: Rfc2136Options = {},
  ) {
    this.id = settings.id ?? 'rfc2136';
    const fail = (field: string, why: string) => new ProviderError('config', `${this.id}: settings.${field} ${why}`);
    const { host, port } = settings.server ?? {};
    if (!host || typeof host !== 'string') throw fail('server.host', 'is missing');
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw fail('server.port', `${port} is not a port (1..65535)`);
    if (!settings.zone) throw fail('zone', 'is missing');
    try {
      encodeName(settings.zone);
      encodeName(settings.key?.name ?? '');
    } catch (e) {
      throw fail('zone or key.name', `is not a DNS name (${(e as Error).message})`);
    }
    if (!settings.key?.name) throw fail('key.name', 'is missing');
    if (settings.key.algorithm !== 'hmac-sha256') throw fail('key.algorithm', 'must be hmac-sha256');
    if (!Buffer.isBuffer(settings.key.secret) || settings.key.secret.length === 0) throw fail('key.secret', 'is empty');
    if (!(settings.timeoutMs > 0)) throw fail('timeoutMs', `${settings.timeoutMs} is not a positive number of ms`);
    this.zone = norm(settings.zone);
    this.where = `${this.id} ${isIPv6(host) ? `[${host}]` : host}:${port}`;
    this.now = options.now ?? Date.now;
  }

  error(kind: ProviderErrorKind, what: string, why: string): ProviderError {
    return new ProviderError(kind, `${this.where}: ${what} failed: ${why}`);
  }

  /** `name` normalized, once it is known to be a valid name inside the zone (else a config error for `what`). */
  checkName(name: string, what: string): string {
    if (!inZone(name, this.zone)) throw this.error('config', what, `${norm(name)} is not in zone ${this.zone}`);
    try {
      encodeName(name);
    } catch (e) {
      throw this.error('config', what, (e as Error).message);
    }
    return norm(name);
  }

  /**
   * Signs and sends one message, then decodes and verifies the answer. Returns the verified (or
   * signer-error) response; transport failures, malformed or mismatched answers and bad signatures throw.
   */
  async exchange(message: Message, what: string): Promise<{ response: DecodedMessage; verdict: TsigVerdict }> {
    const { signed, mac } = signRequest(encodeMessage(message), this.settings.key, this.now() / 1000);
    let raw: Buffer;
    try {
      raw = await tcpExchange(this.settings.server.host, this.settings.server.port, signed, this.settings.timeoutMs, this.sockets);
    } catch (e) {
      throw this.error('unreachable', what, e instanceof TransportError ? e.message : String(e));
    }
    let response: DecodedMessage;
    try {
      response = decodeMessage(raw);
    } catch (e) {
      throw this.error('unreachable', what, `malformed answer: ${e instanceof WireError ? e.message : String(e)}`);
    }
    const h = response.header;
    if (h.id !== message.header.id || !h.qr || h.opcode !== message.header.opcode) {
      throw this.error('unreachable', what, `the answer is not for this ${message.header.opcode === 5 ? 'update' : 'query'} (id ${h.id}, expected ${message.header.id})`);
    }
    const verdict = verifyTsig(raw, response, this.settings.key, this.now() / 1000, mac);
    const rcode = rcodeName(h.rcode);
    switch (verdict.status) {
      case 'verified':
        return { response, verdict };
      case 'signer-error':
        throw this.error('auth', what, `${rcode}, TSIG ${verdict.errorName} (the server refused key "${this.settings.key.name}")`);
      case 'unsigned':
        // The server answered before it could check our signature (or does not sign): only a failure can be believed.
        if (h.rcode === RCODE.NOTAUTH) throw this.error('auth', what, `${rcode} (unsigned answer: is key "${this.settings.key.name}" known to the server?)`);
        if (h.rcode !== RCODE.NOERROR) throw this.error(h.rcode === RCODE.NOTZONE ? 'config' : 'refused', what, `${rcode} (unsigned answer)`);
        throw this.error('auth', what, 'the answer is not signed (TSIG missing)');
      case 'invalid':
        throw this.error('auth', what, `the answer's TSIG does not verify: ${verdict.reason}`);
    }
  }

  /** Sends one UPDATE; resolves when the server applied it (NOERROR), throws with the RCODE's meaning otherwise. */
  async update(message: Message, what: string): Promise<void> {
    const { response } = await this.exchange(message, what);
    const rcode = response.header.rcode;
    const kind = updateFailureKind(rcode);
    if (kind) throw this.error(kind, what, `${rcodeName(rcode)}${RCODE_HINTS[rcode] ? ` (${RCODE_HINTS[rcode]})` : ''}`);
  }

  /** Destroys any connection still open. */
  close(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}
