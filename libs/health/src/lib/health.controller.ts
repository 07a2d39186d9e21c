import { Controller, Get, Header, HttpCode, Res } from '@nestjs/common';
import type { HealthReport } from '@vita/contracts';
import { HealthService } from './health.service';

/** Minimal reply surface shared by Fastify and Express, so the lib stays platform-neutral. */
interface StatusReply {
  status(code: number): unknown;
}

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** Cheap and dependency-free: the process answers. */
  @Get('live')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  live(): HealthReport {
    return this.health.live();
  }

  /** Every readiness indicator passes: 200, otherwise 503 with the failing checks. */
  @Get('ready')
  @Header('Cache-Control', 'no-store')
  async ready(@Res({ passthrough: true }) reply: StatusReply): Promise<HealthReport> {
    const report = await this.health.ready();
    reply.status(report.status === 'ok' ? 200 : 503);
    return report;
  }
}
