import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ENV } from '@vita/runtime';
import type { ApiEnv } from '../config/env';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Bearer-token check for admin actions: 401 without a token, 403 with a wrong one. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(ENV) env: ApiEnv) {
    this.expected = digest(env.VITA_ADMIN_TOKEN);
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const header = request.headers['authorization'];
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match) throw new UnauthorizedException('an admin token is required: send "Authorization: Bearer <VITA_ADMIN_TOKEN>"');
    // Equal-length digests, compared in constant time: neither the length nor a prefix of the token leaks.
    if (!timingSafeEqual(digest(match[1]), this.expected)) throw new ForbiddenException('the admin token is not valid');
    return true;
  }
}
