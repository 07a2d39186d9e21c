import { Controller, Get, Header } from '@nestjs/common';
import { PollerService } from '../monitor/poller.service';
import { renderStatusPage } from './page';

/** The server-rendered status page an operator reads at a glance. */
@Controller()
export class StatusPageController {
  constructor(private readonly poller: PollerService) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  page(): string {
    return renderStatusPage(this.poller.current());
  }
}
