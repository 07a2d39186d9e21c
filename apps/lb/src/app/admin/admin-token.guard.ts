import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ADMIN_TOKEN } from './tokens';

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** `Authorization: Bearer <LB_ADMIN_TOKEN>`: 401 without it, 403 when wrong or when no token is configured. */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly digest: Buffer | null;

  constructor(@Inject(ADMIN_TOKEN) token: string | undefined) {
    this.digest = token ? sha256(token) : null;
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.digest === null) throw new ForbiddenException('run-time state changes are disabled: start lb with LB_ADMIN_TOKEN set');
    const { authorization } = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>().headers;
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    if (presented === undefined) throw new UnauthorizedException('send "Authorization: Bearer <LB_ADMIN_TOKEN>"');
    // Digests of equal length compared in constant time: nothing about the token leaks through timing.
    if (!timingSafeEqual(sha256(presented), this.digest)) throw new ForbiddenException('the admin token is not valid');
    return true;
  }
}
