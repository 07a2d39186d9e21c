import { lstatSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';

/** What lb's plain HTTP listener asks for `/.well-known/acme-challenge/<token>`. */
export interface ChallengeStore {
  get(token: string): string | undefined;
}

/** RFC 8555 tokens are base64url; anything else (dots, slashes, `%`, empty, huge) is refused before touching the disk. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export function isValidToken(token: unknown): token is string {
  return typeof token === 'string' && TOKEN_PATTERN.test(token);
}

/** A key authorization is `<token>.<thumbprint>`: base64url and one dot, short. */
export const KEY_AUTHORIZATION = /^[A-Za-z0-9_-]{1,128}\.[A-Za-z0-9_-]{1,128}$/;
const MAX_FILE_BYTES = 512;

export function isKeyAuthorizationFor(token: string, text: string): boolean {
  return KEY_AUTHORIZATION.test(text) && text.startsWith(`${token}.`);
}

/**
 * Answers HTTP-01 challenges from a folder where AcmeManager writes `<dir>/<token>` (the key
 * authorization) while a challenge is pending. Reads are synchronous and tiny; only regular files
 * (no symlinks) whose content looks like a key authorization for that token are served.
 */
export class FileChallengeStore implements ChallengeStore {
  constructor(readonly dir: string) {}

  get(token: string): string | undefined {
    if (!isValidToken(token)) return undefined;
    const file = join(this.dir, token);
    try {
      const st = lstatSync(file);
      if (!st.isFile() || st.size > MAX_FILE_BYTES) return undefined;
      const text = readFileSync(file, 'utf8').trim();
      return isKeyAuthorizationFor(token, text) ? text : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Set on a request one lb forwards to its peers; a request carrying it is answered locally only (no loops). */
export const PEER_HOP_HEADER = 'x-vita-acme-peer';

export interface PeerChallengeStoreOptions {
  /** This node's store (usually a FileChallengeStore). */
  local: ChallengeStore;
  /** The other nodes' plain lb listeners, e.g. `http://10.0.0.2:80`. */
  peers: string[];
  /** Bound on each peer request (default 1 s); peers are asked in parallel. */
  timeoutMs?: number;
}

/**
 * For nodes that do not share the challenge folder: a token unknown here is asked of every peer's
 * lb (`GET /.well-known/acme-challenge/<token>`, short timeout, first valid answer wins). Forwarded
 * requests carry PEER_HOP_HEADER and are never forwarded again. `get()` stays local and
 * synchronous (the ChallengeStore contract); lb's listener calls `resolve()` to include peers.
 */
export class PeerChallengeStore implements ChallengeStore {
  private readonly peers: URL[];
  private readonly timeoutMs: number;

  constructor(private readonly options: PeerChallengeStoreOptions) {
    this.peers = options.peers.map((p) => {
      const u = new URL(p);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`acme: peer ${p} must be an http(s) URL`);
      return u;
    });
    this.timeoutMs = options.timeoutMs ?? 1_000;
  }

  /** This node's own store. */
  get local(): ChallengeStore {
    return this.options.local;
  }

  get(token: string): string | undefined {
    return this.options.local.get(token);
  }

  /** Local answer, else (unless `headers` show the request was itself forwarded) the first peer's valid answer. */
  async resolve(token: string, headers: Record<string, string | string[] | undefined> = {}): Promise<string | undefined> {
    if (!isValidToken(token)) return undefined;
    const local = this.options.local.get(token);
    if (local !== undefined || headers[PEER_HOP_HEADER] !== undefined || this.peers.length === 0) return local;
    return new Promise((resolve) => {
      let pending = this.peers.length;
      let done = false;
      for (const peer of this.peers) {
        this.ask(peer, token).then((answer) => {
          pending--;
          if (done) return;
          if (answer !== undefined || pending === 0) {
            done = true;
            resolve(answer);
          }
        });
      }
    });
  }

  private ask(peer: URL, token: string): Promise<string | undefined> {
    const url = new URL(`/.well-known/acme-challenge/${token}`, peer);
    const send = url.protocol === 'https:' ? httpsRequest : request;
    return new Promise((resolve) => {
      const req = send(url, { method: 'GET', headers: { [PEER_HOP_HEADER]: '1' }, signal: AbortSignal.timeout(this.timeoutMs) }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
          if (body.length > 512) req.destroy();
        });
        res.on('end', () => {
          const text = body.trim();
          resolve(res.statusCode === 200 && isKeyAuthorizationFor(token, text) ? text : undefined);
        });
        res.on('error', () => resolve(undefined));
      });
      req.on('error', () => resolve(undefined));
      req.end();
    });
  }
}
