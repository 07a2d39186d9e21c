// Site topology DTOs: the content nodes (sites) a node's lb may fall back to (apps/api serves them, apps/lb reads them).
import 'reflect-metadata';
import { Type } from 'class-transformer';
import { IsArray, IsString, Matches, ValidateBy, ValidateNested, type ValidationOptions } from 'class-validator';
import { SITE_NODE_NAME } from './site-nodes';
/** Where another node's lb takes traffic from its peers: `http(s)://host:port`, no path. */
export const PEER_URL = /^https?:\/\/([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}\/?$/;

/**
 * Whether every lb can use `url` as a backup: `http(s)://host:port` (only `https` with `httpsOnly`),
 * a port from 1 to 65535, and a URL Node parses. The api stores nothing else as a node's peerUrl.
 */
export function isUsablePeerUrl(url: unknown, httpsOnly = false): boolean {
  if (typeof url !== 'string' || !PEER_URL.test(url) || (httpsOnly && !url.startsWith('https://'))) return false;
  try {
    const port = Number(new URL(url).port);
    return Number.isInteger(port) && port >= 1 && port <= 65535;
  } catch {
    return false;
  }
}

/** class-validator: a URL every lb can use as a backup (see isUsablePeerUrl). */
export const IsPeerUrl = (httpsOnly: boolean, options?: ValidationOptions): PropertyDecorator =>
  ValidateBy({ name: 'isPeerUrl', validator: { validate: (value: unknown) => isUsablePeerUrl(value, httpsOnly) } }, options);

/** Another content node, as its peers' lbs reach it. */
export class SitePeerDto {
  @IsString() @Matches(SITE_NODE_NAME, { message: 'name must be a DNS label: a-z, 0-9 and -, at most 63 characters' }) name!: string;
  @IsString() @IsPeerUrl(false, { message: 'url must be http(s)://host:port, the port from 1 to 65535' }) url!: string;
}

/** `GET /api/v1/sites/peers`: every content node's lb (the asking node's own included; lb leaves itself out). */
export class SitePeersDto {
  @IsArray() @ValidateNested({ each: true }) @Type(() => SitePeerDto) peers!: SitePeerDto[];
}
