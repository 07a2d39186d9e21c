import { Controller, Get, Header, NotFoundException, Param, Query, ServiceUnavailableException } from '@nestjs/common';
import type { ActionRecordDto, ReplicaStatusDto, TopologyDto } from '@vita/contracts';
import { AuditService } from '../audit/audit.service';
import { PollerService } from '../monitor/poller.service';

/** Read-only JSON API: the whole topology, one replica, the audit log. */
@Controller('api/v1')
export class TopologyController {
  constructor(
    private readonly poller: PollerService,
    private readonly audit: AuditService,
  ) {}

  /** The newest check; `?fresh=1` runs one now. 503 until the first check has completed. */
  async topology(fresh?: string): Promise<TopologyDto> {
    const t = fresh === '1' || fresh === 'true' ? await this.poller.refresh() : this.poller.current();
    if (!t) throw new ServiceUnavailableException('the first check is still running: try again in a second');
    return t;
  }

  @Get('topology')
  @Header('Cache-Control', 'no-store')
  whole(@Query('fresh') fresh?: string): Promise<TopologyDto> {
    return this.topology(fresh);
  }

  @Get('replicas/:name')
  @Header('Cache-Control', 'no-store')
  async replica(@Param('name') name: string, @Query('fresh') fresh?: string): Promise<ReplicaStatusDto> {
    const t = await this.topology(fresh);
    const replica = t.replicas.find((r) => r.name === name);
    if (!replica) throw new NotFoundException(`there is no replica "${name.slice(0, 64)}"; replicas are: ${t.replicas.map((r) => r.name).join(', ')}`);
    return replica;
  }

  @Get('audit')
  @Header('Cache-Control', 'no-store')
  actions(@Query('replica') replica?: string): ActionRecordDto[] {
    return this.audit.list(200, replica);
  }
}
