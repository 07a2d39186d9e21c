import { Controller, Get, Header, NotFoundException, Param, Query, Res, ServiceUnavailableException } from '@nestjs/common';
import type { ActionRecordDto, ReplicaStatusDto, TopologyDto } from '@vita/contracts';
import type { FastifyReply } from 'fastify';
import { AuditService } from '../audit/audit.service';
import { PollerService } from '../monitor/poller.service';

/** Read-only JSON API: the whole topology, one replica, the audit log. */
@Controller('api/v1')
export class TopologyController {
  constructor(
    private readonly poller: PollerService,
    private readonly audit: AuditService,
  ) {}

  /**
   * The newest check. `?fresh=1`: a check that started at most REPL_FRESH_MIN_INTERVAL_MS before the
   * call, shared with concurrent calls; `X-Check` says whether it was started for this call (or after
   * it: `new`), was in progress (`joined`) or was the newest (`recent`). 503 until the first check has completed.
   */
  async topology(fresh: string | undefined, reply: FastifyReply): Promise<TopologyDto> {
    let t: TopologyDto | undefined;
    if (fresh === '1' || fresh === 'true') {
      const read = await this.poller.fresh();
      reply.header('X-Check', read.check);
      t = read.topology;
    } else t = this.poller.current();
    if (!t) throw new ServiceUnavailableException('the first check is still running: try again in a second');
    return t;
  }

  @Get('topology')
  @Header('Cache-Control', 'no-store')
  whole(@Res({ passthrough: true }) reply: FastifyReply, @Query('fresh') fresh?: string): Promise<TopologyDto> {
    return this.topology(fresh, reply);
  }

  @Get('replicas/:name')
  @Header('Cache-Control', 'no-store')
  async replica(@Res({ passthrough: true }) reply: FastifyReply, @Param('name') name: string, @Query('fresh') fresh?: string): Promise<ReplicaStatusDto> {
    const t = await this.topology(fresh, reply);
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
