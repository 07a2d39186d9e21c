import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { VersionStreams } from './versions.service';

/** The push channel: every newer version this api instance serves, as server-sent events. */
@Controller('api/v1/versions')
export class VersionsController {
  constructor(private readonly streams: VersionStreams) {}

  @Get()
  subscribe(@Res() reply: FastifyReply): void {
    this.streams.open(reply.raw);
    reply.hijack();
  }
}
