import { BadRequestException, Body, Controller, Get, Headers, HttpCode, Inject, NotFoundException, Param, Put, Req, Res, UnsupportedMediaTypeException, UseGuards } from '@nestjs/common';
import { isResumeSection, RESUME_SECTIONS } from '@vita/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AdminTokenGuard, ENV } from '@vita/runtime';
import type { ApiEnv } from '../config/env';
import { BadIfMatchError, etagOf, IfMatch, ifNoneMatches, parseIfMatch } from './etag';
import { ResumeService } from './resume.service';

@Controller('api/v1/resume')
export class ResumeController {
  constructor(
    private readonly resume: ResumeService,
    @Inject(ENV) private readonly env: ApiEnv,
  ) {}

  /** The hot path: reads the request itself, since other param decorators go through the global pipes. */
  @Get()
  whole(@Req() req: FastifyRequest, @Res() reply: FastifyReply): void {
    const current = this.resume.current();
    this.send(reply, etagOf(current.version), req.headers['if-none-match'], current.updatedAt, current.json);
  }

  @Get(':section')
  section(@Param('section') section: string, @Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply): void {
    if (!isResumeSection(section)) {
      throw new NotFoundException({
        statusCode: 404,
        error: 'Not Found',
        message: `there is no section "${section.slice(0, 40)}"; sections are: ${RESUME_SECTIONS.join(', ')}`,
        sections: RESUME_SECTIONS,
      });
    }
    const current = this.resume.current();
    const value = current.document[section];
    if (value === undefined) throw new NotFoundException(`the résumé has no ${section} section`);
    this.send(reply, etagOf(current.version, section), ifNoneMatch, current.updatedAt, JSON.stringify(value));
  }

  @Put()
  @HttpCode(200)
  @UseGuards(AdminTokenGuard)
  async replace(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    if (!/^application\/(.+\+)?json\s*(;|$)/i.test(contentType ?? '')) {
      throw new UnsupportedMediaTypeException('the résumé must be sent as application/json');
    }
    const { version } = await this.resume.replace(body, ifMatchOf(ifMatch));
    reply.header('ETag', etagOf(version));
    return { version };
  }

  private send(reply: FastifyReply, etag: string, ifNoneMatch: string | undefined, updatedAt: Date, json: string): void {
    reply
      .header('ETag', etag)
      .header('Cache-Control', `public, max-age=${this.env.CACHE_MAX_AGE_SECONDS}`)
      .header('Last-Modified', updatedAt.toUTCString());
    if (ifNoneMatches(ifNoneMatch, etag)) {
      reply.code(304).send();
      return;
    }
    reply.type('application/json; charset=utf-8').send(json);
  }
}

function ifMatchOf(header: string | undefined): IfMatch {
  try {
    return parseIfMatch(header);
  } catch (err) {
    if (err instanceof BadIfMatchError) throw new BadRequestException(err.message);
    throw err;
  }
}
