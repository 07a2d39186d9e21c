export { AcmeManager, LETS_ENCRYPT_PRODUCTION, parseCert } from './acme-manager';
export type { AcmeProblem, AcmeSettings, AcmeState, AcmeStatus, AcmeNameStatus, EnsureResult, RenewedInfo } from './acme-manager';
export { FileChallengeStore, isValidToken, PEER_HOP_HEADER, PeerChallengeStore, TOKEN_PATTERN } from './challenge-store';
export type { ChallengeStore, PeerChallengeStoreOptions } from './challenge-store';
export { writeFileAtomic } from './files';
export { backoffDelay, daysLeft, isProblem, nextCheckDelay, oneLine, renewalPoint, renewReason } from './policy';
export type { RenewReason } from './policy';
