import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AssetStore } from './assets';

@Controller('assets')
export class AssetsController {
  constructor(private readonly assets: AssetStore) {}

  /** Content-hashed names never change meaning: cache them for a year. */
  @Get(':name')
  asset(@Param('name') name: string, @Res() reply: FastifyReply): void {
    const asset = this.assets.byHashed(name);
    if (!asset) throw new NotFoundException(`no asset ${name.slice(0, 60)}`);
    reply.header('Cache-Control', 'public, max-age=31536000, immutable').type(asset.contentType).send(asset.body);
  }
}
