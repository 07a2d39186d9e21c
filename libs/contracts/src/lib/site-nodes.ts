import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

/** A content node's name: a DNS label. */
export const SITE_NODE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** What a content node is to the rest of the topology. */
export type SiteNodeState = 'joining' | 'active' | 'leaving';

/** One content node, as the warehouse's `site_nodes` table (replicated to every node) holds it. */
export interface SiteNode {
  /** The node's name (a DNS label), also lb's LB_NODE_NAME there. */
  name: string;
  /** The address other hosts reach the node at. */
  address: string;
  /** Its MariaDB replica's port at that address. */
  dbPort: number;
  /** Its lb's listener for other nodes' lbs (HTTPS), used as their backup. */
  peerUrl: string;
  state: SiteNodeState;
  /** ISO 8601, UTC. */
  updatedAt: string;
}

/** Body of `GET /api/v1/sites`. */
export interface SiteNodesResponse {
  nodes: SiteNode[];
}

/** Body of the warehouse's `POST /api/v1/sites/join` (repl-admin, with the join secret). */
export class JoinRequestDto {
  @IsString() @Matches(SITE_NODE_NAME, { message: 'name must be a DNS label: a-z, 0-9 and -, at most 63 characters' }) declare name: string;
  @IsString() @Matches(/^[A-Za-z0-9.:-]{1,253}$/, { message: 'address must be an IP address or a DNS name' }) declare address: string;
}

/** A database statement with its parameters (run as root on the joining node's replica). */
export interface SiteStatement {
  sql: string;
  params: string[];
}

/** What a joining node is given: its certificate, the site's CA and secrets, where the primary is. */
export interface JoinBundle {
  /** PEM. */
  ca: string;
  cert: string;
  key: string;
  /** The site's passwords and tokens a content node's services use (NAME → value). */
  secrets: Record<string, string>;
  /** The primary, as the replicas reach it. */
  primary: { host: string; port: number };
  /** Host pattern of the database accounts. */
  userHost: string;
  /** repl-admin's own accounts, to create on the replica before it is seeded (so repl-admin can reach it). */
  replAccounts: SiteStatement[];
  /** The other content nodes' replicas the topology lists now: the node reads them after its own. */
  nodes: { name: string; address: string; dbPort: number }[];
}

/** Body of `POST /api/v1/sites/join/:name/seed`: where the node's replica is, and its CA file there. */
export class SeedRequestDto {
  @IsString() @Matches(/^[A-Za-z0-9.:-]{1,253}$/, { message: 'address must be an IP address or a DNS name' }) declare address: string;
  @IsInt() @Min(1) @Max(65535) declare dbPort: number;
  /** Unset: the warehouse's REPL_REPLICA_TLS_CA (or plain replication when that is unset too). */
  @IsOptional() @IsString() @Matches(/^\/[^\0\n]{0,1000}$/, { message: 'tlsCa must be an absolute path' }) declare tlsCa?: string;
}
