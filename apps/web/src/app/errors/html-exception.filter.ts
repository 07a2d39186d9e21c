import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PageRenderer } from '../page/page.renderer';

const PAGES: Record<number, [string, string]> = {
  404: ['Page not found', 'There is nothing at this address.'],
  503: ['Back in a moment', 'The résumé cannot be shown right now. Please try again in a few seconds.'],
};
const FALLBACK: [string, string] = ['Something went wrong', 'The page could not be shown. Please try again later.'];

/**
 * Friendly pages for errors on pages, JSON for machine paths; never a stack trace or an internal
 * message in a 5xx.
 */
@Catch()
export class HtmlExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('Errors');

  constructor(private readonly renderer: PageRenderer) {}

  async catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
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
    const page = await this.renderer.error(heading, message);
    reply.code(status).type('text/html; charset=utf-8').send(page.html);
  }
}
