import { BadRequestException, Body, Controller, Delete, Get, Header, HttpCode, Param, Put, ServiceUnavailableException, UseGuards } from '@nestjs/common';
import { type SiteNode, SITE_NODE_NAME, type SiteNodesResponse } from '@vita/contracts';
import { AdminTokenGuard } from '@vita/runtime';
import { describeError } from '../db/data-source';
import { SiteNodeRow, SiteNodes } from '../db/entities';
import { PrimaryDatabase } from '../db/primary.service';
import { ReadDatabases } from '../db/read-databases.service';
import { SiteNodeBody } from './site-node.dto';

const toNode = (r: SiteNodeRow): SiteNode => ({ name: r.name, address: r.address, dbPort: r.dbPort, peerUrl: r.peerUrl, state: r.state, updatedAt: r.updatedAt.toISOString() });

function nodeName(name: string): string {
  if (!SITE_NODE_NAME.test(name)) throw new BadRequestException('the node name must be a DNS label: a-z, 0-9 and -, at most 63 characters');
  return name;
}

/**
 * The topology: which content nodes exist. Read from the local replica (replication carries the table to
 * every node); changed on the primary with the admin token, by `site join` and `site leave`.
 */
@Controller('api/v1/sites')
export class SitesController {
  constructor(
    private readonly reads: ReadDatabases,
    private readonly primary: PrimaryDatabase,
  ) {}

  private async nodes(): Promise<SiteNode[]> {
    try {
      const rows = await this.reads.query((db) => db.getRepository(SiteNodes).find({ order: { name: 'ASC' } }));
      return rows.map(toNode);
    } catch (err) {
      throw new ServiceUnavailableException(`the topology cannot be read: ${describeError(err)}`);
    }
  }

  @Get()
  @Header('Cache-Control', 'no-store')
  async list(): Promise<SiteNodesResponse> {
    return { nodes: await this.nodes() };
  }

  /** What lb's LB_PEERS_URL reads: every active node's lb listener for peers. */
  @Get('peers')
  @Header('Cache-Control', 'no-store')
  async peers(): Promise<{ peers: { name: string; url: string }[] }> {
    return { peers: (await this.nodes()).filter((n) => n.state === 'active').map((n) => ({ name: n.name, url: n.peerUrl })) };
  }

  @Put('nodes/:name')
  @UseGuards(AdminTokenGuard)
  async put(@Param('name') name: string, @Body() body: SiteNodeBody): Promise<SiteNode> {
    const row: SiteNodeRow = { name: nodeName(name), ...body, updatedAt: new Date() };
    await this.primary.transaction((m) => m.getRepository(SiteNodes).save(row));
    return toNode(row);
  }

  @Delete('nodes/:name')
  @UseGuards(AdminTokenGuard)
  @HttpCode(204)
  async remove(@Param('name') name: string): Promise<void> {
    await this.primary.transaction((m) => m.getRepository(SiteNodes).delete({ name: nodeName(name) }));
  }
}
