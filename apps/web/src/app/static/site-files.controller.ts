import { Controller, Get, Header, Inject, NotFoundException, Res } from '@nestjs/common';
import { ENV } from '@vita/runtime';
import type { FastifyReply } from 'fastify';
import type { WebEnv } from '../config/env';
import { AssetStore } from './assets';

/** Pure: robots.txt for ROBOTS (`allow`: everything may be indexed; `disallow`: nothing). */
export const robotsTxt = (robots: 'allow' | 'disallow'): string => `User-agent: *\n${robots === 'allow' ? 'Allow' : 'Disallow'}: /\n`;

/** The files crawlers and browsers ask every site for by name: /robots.txt and /favicon.ico. */
@Controller()
export class SiteFilesController {
  private readonly robots: string;

  constructor(
    private readonly assets: AssetStore,
    @Inject(ENV) env: WebEnv,
  ) {
    this.robots = robotsTxt(env.ROBOTS);
  }

  @Get('robots.txt')
  @Header('content-type', 'text/plain; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  robotsTxt(): string {
    return this.robots;
  }

  /** The page's icon (an SVG; browsers read it whatever the name says) for a client that asks by the old name. */
  @Get('favicon.ico')
  favicon(@Res() reply: FastifyReply): void {
    const url = this.assets.url('icon.svg');
    const icon = url === undefined ? undefined : this.assets.byHashed(url.slice(url.lastIndexOf('/') + 1));
    if (icon === undefined) throw new NotFoundException('no icon');
    reply.header('cache-control', 'public, max-age=86400').type(icon.contentType).send(icon.body);
  }
}
