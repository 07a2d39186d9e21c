import { Body, Controller, HttpCode, Inject, NotFoundException, Param, Post, UseGuards } from '@nestjs/common';
import { LbBackendStateDto, type LbBackendStats } from '@vita/contracts';
import type { ControlPlane } from '../control/control-plane';
import { AdminTokenGuard } from '@vita/runtime';
import { CONTROL_PLANE } from './tokens';

@Controller('backends')
export class BackendsController {
  constructor(@Inject(CONTROL_PLANE) private readonly control: ControlPlane) {}

  /** Puts a backend in `ready`, `drain` (no new requests) or `maint` (no requests, no checks). */
  @Post(':name/state')
  @HttpCode(200)
  @UseGuards(AdminTokenGuard)
  async setState(@Param('name') name: string, @Body() body: LbBackendStateDto): Promise<LbBackendStats> {
    if (!this.control.setAdmin(name, body.state)) throw new NotFoundException(`no backend is named "${name}"`);
    const { stats } = await this.control.report();
    return stats.backends.find((b) => b.name === name) as LbBackendStats;
  }
}
