import { HttpException, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PageRenderer } from '../page/page.renderer';

const PAGES: Record<number, [string, string]> = {
  404: ['Page not found', 'There is nothing at this address.'],
  503: ['Back in a moment', 'The résumé cannot be shown right now. Please try again in a few seconds.'],
};
const FALLBACK: [string, string] = ['Something went wrong', 'The page could not be shown. Please try again later.'];

/**
 * The answer to a failed request: a friendly page for pages, JSON for machine paths; never a stack
 * trace or an internal message in a 5xx. Used by the exception filter and by the routes that bypass Nest.
 */
@Injectable()
export class ErrorPages {
  private readonly log = new Logger('Errors');
  /** Rendered error pages by heading and message: they never change while the process runs. */
  private readonly rendered = new Map<string, Promise<string>>();

  constructor(private readonly renderer: PageRenderer) {}

  async send(exception: unknown, req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const status = exception instanceof HttpException ? exception.getStatus() : 500;
    if (status >= 500) this.log.error(exception instanceof Error ? exception.message : String(exception));
    if (status === 503) reply.header('Retry-After', '5');
    reply.header('Cache-Control', 'no-store');
    const path = req.url.split('?')[0];
    if (path.startsWith('/health/') || path === '/resume.json' || path.startsWith('/assets/')) {
      const message = status < 500 && exception instanceof HttpException ? exception.message : (PAGES[status] ?? FALLBACK)[1];
      reply.code(status).send({ statusCode: status, message });
      return;
    }
    const [heading, message] = PAGES[status] ?? (status < 500 ? ['That did not work', 'The request could not be handled.'] : FALLBACK);
    reply.code(status).type('text/html; charset=utf-8').send(await this.page(heading, message));
  }

  private page(heading: string, message: string): Promise<string> {
    const key = `${heading}\n${message}`;
    let page = this.rendered.get(key);
    if (!page) {
      page = this.renderer.error(heading, message).then((p) => p.html);
      // A failed rendering is tried again next time.
      page.catch(() => this.rendered.delete(key));
      this.rendered.set(key, page);
    }
    return page;
  }
}
