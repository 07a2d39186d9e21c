import { Controller, Get, Header, Inject } from '@nestjs/common';
import type { LbStats } from '@vita/contracts';
import type { ControlPlane } from '../control/control-plane';
import { renderMetrics } from '../stats/prometheus';
import { renderStatsPage } from '../stats/stats-page';
import { CONTROL_PLANE } from './tokens';

@Controller()
export class StatsController {
  constructor(@Inject(CONTROL_PLANE) private readonly control: ControlPlane) {}

  /** The human-readable stats page. */
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async page(): Promise<string> {
    return renderStatsPage((await this.control.report()).stats);
  }

  @Get('stats')
  @Header('Cache-Control', 'no-store')
  async stats(): Promise<LbStats> {
    return (await this.control.report()).stats;
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async metrics(): Promise<string> {
    return renderMetrics(await this.control.report());
  }
}
