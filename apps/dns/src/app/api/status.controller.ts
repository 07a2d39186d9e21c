import { Controller, Get, Header, Inject } from '@nestjs/common';
import type { DnsStatus, Engine } from '../controller/engine';
import type { DnsMetrics } from '../status/metrics';
import { renderStatusPage } from '../status/page';
import { ENGINE } from './engine.token';

export const METRICS = Symbol('METRICS');

@Controller()
export class StatusController {
  constructor(
    @Inject(ENGINE) private readonly engine: Engine,
    @Inject(METRICS) private readonly metrics: DnsMetrics,
  ) {}

  @Get('api/v1/status')
  @Header('Cache-Control', 'no-store')
  status(): DnsStatus {
    return this.engine.status();
  }

  /** The page an operator reads at a glance. */
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  page(): string {
    return renderStatusPage(this.engine.status());
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
