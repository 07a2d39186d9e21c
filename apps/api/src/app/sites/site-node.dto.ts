import { IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { IsPeerUrl, type SiteNodeState } from '@vita/contracts';
const ADDRESS = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^[0-9A-Fa-f:.]{2,45}$/;

/** Body of `PUT /api/v1/sites/nodes/:name`. */
export class SiteNodeBody {
  @IsString() @Matches(ADDRESS, { message: 'address must be an IP address or a DNS name' }) address!: string;
  @IsInt() @Min(1) @Max(65535) dbPort!: number;
  @IsString() @IsPeerUrl(true, { message: 'peerUrl must be https://host:port, the port from 1 to 65535 (links between hosts are verified TLS)' }) peerUrl!: string;
  @IsIn(['joining', 'active', 'leaving']) state!: SiteNodeState;
}
