import { Body, ConflictException, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post, Query, UseGuards } from '@nestjs/common';
import { AdminTokenGuard } from '@vita/runtime';
import type { DnsAudit } from '../drain/audit';
import { DrainRefused, type DrainAnswer, type Engine } from '../controller/engine';
import { DrainBody } from './drain.dto';
import { ENGINE } from './engine.token';

export const AUDIT = Symbol('AUDIT');

/** Maintenance: drain a node out of DNS before a risky change, undrain it after; both audited. */
@Controller('api/v1')
export class NodesController {
  constructor(
    @Inject(ENGINE) private readonly engine: Engine,
    @Inject(AUDIT) private readonly audit: DnsAudit,
  ) {}

  @Post('nodes/:node/drain')
  @HttpCode(200)
  @UseGuards(AdminTokenGuard)
  drain(@Param('node') node: string, @Body() body: DrainBody): Promise<DrainAnswer> {
    return this.act(node, true, body.reason);
  }

  @Post('nodes/:node/undrain')
  @HttpCode(200)
  @UseGuards(AdminTokenGuard)
  undrain(@Param('node') node: string, @Body() body: DrainBody): Promise<DrainAnswer> {
    return this.act(node, false, body.reason);
  }

  @Get('audit')
  list(@Query('limit') limit?: string) {
    const n = Number(limit ?? 200);
    return this.audit.list(Number.isInteger(n) && n > 0 ? n : 200);
  }

  private async act(node: string, drained: boolean, reason: string): Promise<DrainAnswer> {
    try {
      return await this.engine.setDrain(node, drained, reason.trim());
    } catch (err) {
      if (err instanceof DrainRefused) throw err.message.startsWith('no node') ? new NotFoundException(err.message) : new ConflictException(err.message);
      throw err;
    }
  }
}
