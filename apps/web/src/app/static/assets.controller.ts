import { Controller, Get, Headers, NotFoundException, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { EncodingChooser } from '../compression/encodings';
import { AssetStore } from './assets';

@Controller('assets')
export class AssetsController {
  private readonly encodings = new EncodingChooser();

  constructor(private readonly assets: AssetStore) {}

  /** Content-hashed names never change meaning: cache them for a year. Text files go compressed when the client takes it. */
  @Get(':name')
  asset(@Param('name') name: string, @Headers('accept-encoding') acceptEncoding: string | undefined, @Res() reply: FastifyReply): void {
    const asset = this.assets.byHashed(name);
    if (!asset) throw new NotFoundException(`no asset ${name.slice(0, 60)}`);
    reply.header('Cache-Control', 'public, max-age=31536000, immutable').type(asset.contentType);
    if (asset.bodies.br === undefined && asset.bodies.gzip === undefined) return void reply.send(asset.body);
    const encoding = this.encodings.choose(acceptEncoding, asset.bodies);
    reply.header('vary', 'accept-encoding');
    if (encoding !== 'identity') reply.header('content-encoding', encoding);
    reply.send(asset.bodies[encoding] ?? asset.body);
  }
}
