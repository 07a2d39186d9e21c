import { ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { AdminTokenGuard, type AdminTokenSetting } from '@vita/runtime';
import { STATS_TOKEN } from './tokens';

/**
 * The stats page, `/stats` and `/metrics`: open when `LB_STATS_TOKEN` is unset (the admin plane
 * listens on loopback by default); with it set, `Authorization: Bearer <LB_STATS_TOKEN>` is required
 * (401 without, 403 when wrong), compared as the admin token is (the shared guard).
 */
@Injectable()
export class StatsTokenGuard extends AdminTokenGuard {
  private readonly open: boolean;

  constructor(@Inject(STATS_TOKEN) setting: AdminTokenSetting) {
    super(setting);
    this.open = !setting.token;
  }

  override canActivate(context: ExecutionContext): boolean {
    return this.open || super.canActivate(context);
  }
}
