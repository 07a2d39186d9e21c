import { CanActivate, ExecutionContext, ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Injection token of a service's admin token and the variable it comes from. */
export const ADMIN_TOKEN = Symbol('ADMIN_TOKEN');

export interface AdminTokenSetting {
  /** The expected token; unset: admin actions are refused (403). */
  token: string | undefined;
  /** Its environment variable, named in the error messages (never its value). */
  variable: string;
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * `Authorization: Bearer <token>` for admin actions: 401 without a token, 403 with a wrong one. The
 * SHA-256 digests are compared in constant time, so neither the length nor a matching prefix of the
 * token shows in the timing.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;
  private readonly variable: string;

  constructor(@Inject(ADMIN_TOKEN) setting: AdminTokenSetting) {
    this.expected = setting.token ? sha256(setting.token) : null;
    this.variable = setting.variable;
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expected === null) throw new ForbiddenException(`admin actions are disabled: start the service with ${this.variable} set`);
    const { authorization } = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders }>().headers;
    const presented = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')?.[1];
    if (presented === undefined) throw new UnauthorizedException(`an admin token is required: send "Authorization: Bearer <${this.variable}>"`);
    if (!timingSafeEqual(sha256(presented), this.expected)) throw new ForbiddenException('the admin token is not valid');
    return true;
  }
}
