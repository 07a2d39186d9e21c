import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorPages } from './error-pages';

/** Every exception of a Nest route (and Nest's not-found handler) answered by ErrorPages. */
@Catch()
export class HtmlExceptionFilter implements ExceptionFilter {
  constructor(private readonly pages: ErrorPages) {}

  catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    return this.pages.send(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}
