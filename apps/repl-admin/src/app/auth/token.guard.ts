import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ENV } from '@vita/runtime';
import type { ReplConfig } from '../config/config';

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/** REPL_ADMIN_TOKEN as a bearer token: 401 when missing, 403 when wrong (compared in constant time). */
@Injectable()
export class ReplAdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(ENV) config: ReplConfig) {
    this.expected = sha256(config.env.REPL_ADMIN_TOKEN);
  }

  canActivate(context: ExecutionContext): boolean {
    const { authorization } = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>().headers;
    const token = authorization ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)?.[1] : undefined;
    if (token === undefined) throw new UnauthorizedException('actions need the admin token: send "Authorization: Bearer <REPL_ADMIN_TOKEN>"');
    // Digests of equal length: neither the token's length nor a matching prefix shows in the timing.
    if (!timingSafeEqual(sha256(token), this.expected)) throw new ForbiddenException('the admin token is not valid');
    return true;
  }
}
