import { BadRequestException, Body, Controller, HttpCode, Inject, Put, UseGuards } from '@nestjs/common';
import type { Engine } from '../controller/engine';
import type { VantageView } from '../model';
import { ENGINE } from './engine.token';
import { PeerTokenGuard } from './tokens';

/** The exchange between controllers: a peer sends its view and gets this one's in the answer. */
@Controller('api/v1/peer')
export class PeerController {
  constructor(@Inject(ENGINE) private readonly engine: Engine) {}

  @Put('view')
  @HttpCode(200)
  @UseGuards(PeerTokenGuard)
  view(@Body() body: unknown): VantageView {
    const got = this.engine.receive(body);
    if ('refused' in got) throw new BadRequestException(got.refused);
    return got.view;
  }
}
