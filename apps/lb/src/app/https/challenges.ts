/*
 * ACME http-01 challenges: what the plain listener answers at /.well-known/acme-challenge/<token>.
 * The ACME side fills a store; lb only reads it.
 */

export const CHALLENGE_PREFIX = '/.well-known/acme-challenge/';

export { FileChallengeStore, isValidToken as isToken, type ChallengeStore } from '../acme/challenge-store';
import { FileChallengeStore, PeerChallengeStore, type ChallengeStore } from '../acme/challenge-store';
import { challengesDirOf, type HttpsConfig } from '../config/config';

/** In this process only (lb without workers, or tests). */
export class MemoryChallenges implements ChallengeStore {
  private readonly tokens = new Map<string, string>();
  set(token: string, keyAuthorization: string): void {
    this.tokens.set(token, keyAuthorization);
  }
  delete(token: string): void {
    this.tokens.delete(token);
  }
  get(token: string): string | undefined {
    return this.tokens.get(token);
  }
}

/** Each peer is given this long to answer a challenge this node does not hold. */
export const CHALLENGE_PEER_TIMEOUT_MS = 1_000;

/**
 * The plain listener's challenge store for a configuration: the challenge folder (`challengesDir`, or
 * the ACME folder's) or memory, asking `challengePeers` for tokens it does not hold.
 */
export function challengeStoreFor(https: HttpsConfig | undefined, current?: ChallengeStore): ChallengeStore {
  const dir = https === undefined ? undefined : challengesDirOf(https);
  const peers = https?.challengePeers ?? [];
  const localNow = current instanceof PeerChallengeStore ? current.local : current;
  const local = dir === undefined ? (localNow instanceof MemoryChallenges ? localNow : new MemoryChallenges()) : localNow instanceof FileChallengeStore && localNow.dir === dir ? localNow : new FileChallengeStore(dir);
  return peers.length === 0 ? local : new PeerChallengeStore({ local, peers, timeoutMs: CHALLENGE_PEER_TIMEOUT_MS });
}
