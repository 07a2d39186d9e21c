import { Controller, Get, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Inject } from '@nestjs/common';
import { ENV } from '@vita/runtime';
import type { WebEnv } from '../config/env';
import { ResumeCache, ResumeRead } from '../resume/resume-cache.service';
import { PageRenderer, RenderedPage } from './page.renderer';

function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  return !!ifNoneMatch && ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

@Controller()
export class PageController {
  constructor(
    private readonly cache: ResumeCache,
    private readonly renderer: PageRenderer,
    @Inject(ENV) private readonly env: WebEnv,
  ) {}

  /** The résumé page, rendered once per version of the document. */
  @Get()
  async page(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // Param decorators other than @Req/@Res go through the global pipes: this hot path reads the request itself.
    const read = await this.cache.read(req.id);
    const memo = read.resume.memo;
    let page = memo.get('page') as Promise<RenderedPage> | undefined;
    if (!page) {
      page = this.renderer.resume(read.resume.document);
      memo.set('page', page);
    }
    const { html, etag } = await page;
    this.send(reply, read, etag, req.headers['if-none-match'], 'text/html; charset=utf-8', html);
  }

  /** The JSON Resume document, for download. */
  @Get('resume.json')
  async json(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const read = await this.cache.read(req.id);
    reply.header('Content-Disposition', 'attachment; filename="resume.json"');
    this.send(reply, read, read.resume.etag ?? '"unversioned"', req.headers['if-none-match'], 'application/json; charset=utf-8', read.resume.json);
  }

  private send(reply: FastifyReply, read: ResumeRead, etag: string, ifNoneMatch: string | undefined, type: string, body: string): void {
    reply.header('ETag', etag);
    if (read.staleSeconds !== undefined) {
      // Every api failed: this is the last good copy. Say so, and keep shared caches from holding it.
      reply.header('x-vita-stale', String(read.staleSeconds)).header('Cache-Control', 'no-cache');
    } else {
      reply.header('Cache-Control', `public, max-age=${this.env.PAGE_MAX_AGE_SECONDS}`);
    }
    if (notModified(ifNoneMatch, etag)) {
      reply.code(304).send();
      return;
    }
    reply.type(type).send(body);
  }
}
