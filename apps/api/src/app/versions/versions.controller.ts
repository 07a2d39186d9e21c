import { Controller, Get, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';
import { STREAM_HEADERS, VersionStreams } from './versions.service';

/** The push channel: every newer version this api instance serves, as server-sent events. */
@Controller('api/v1/versions')
export class VersionsController {
  constructor(private readonly streams: VersionStreams) {}

  /**
   * GET opens a stream. HEAD (Fastify answers it with this GET route) gets the headers a GET would
   * get now (or the same 503) and ends at once: a body is never sent on HEAD, so a stream would only
   * hold a place.
   */
  @Get()
  subscribe(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    if (req.method === 'HEAD') {
      this.streams.admit();
      // Written raw, as a stream's are: no Content-Length (a stream has none), the headers set so far (x-request-id) kept.
      reply.hijack();
      const set: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) set[name] = value;
      reply.raw.writeHead(200, { ...set, ...STREAM_HEADERS });
      reply.raw.end();
      return;
    }
    this.streams.open(reply.raw);
    reply.hijack();
  }
}
