import { Controller, Get, Header, Inject, UseGuards } from '@nestjs/common';
import type { LbStats } from '@vita/contracts';
import type { ControlPlane, Report } from '../control/control-plane';
import { lbLogDropped } from '../logging';
import { renderMetrics } from '../stats/prometheus';
import { renderStatsPage } from '../stats/stats-page';
import { StatsTokenGuard } from './stats-token.guard';
import { CONTROL_PLANE } from './tokens';

/** The stats page, JSON and Prometheus metrics; behind LB_STATS_TOKEN when it is set. */
@Controller()
@UseGuards(StatsTokenGuard)
export class StatsController {
  constructor(@Inject(CONTROL_PLANE) private readonly control: ControlPlane) {}

  /**
   * The control plane's report, plus the lines this process's own log dropped when the data planes
   * are other processes (workers; with one, the data plane here already counted them).
   */
  private async report(): Promise<Report> {
    const report = await this.control.report();
    if (report.processes.some((p) => p.role === 'worker')) report.stats.frontend.logDropped += lbLogDropped();
    return report;
  }

  /** The human-readable stats page. */
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async page(): Promise<string> {
    return renderStatsPage((await this.report()).stats);
  }

  @Get('stats')
  @Header('Cache-Control', 'no-store')
  async stats(): Promise<LbStats> {
    return (await this.report()).stats;
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async metrics(): Promise<string> {
    return renderMetrics(await this.report());
  }
}
