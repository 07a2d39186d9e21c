import { Inject, Injectable } from '@nestjs/common';
import { AdminTokenGuard, type AdminTokenSetting } from '@vita/runtime';

/** Injection token of the controllers' shared peer token (DNS_PEER_TOKEN). */
export const PEER_TOKEN = Symbol('PEER_TOKEN');

/** `Authorization: Bearer <DNS_PEER_TOKEN>` on the view exchange between controllers. */
@Injectable()
export class PeerTokenGuard extends AdminTokenGuard {
  constructor(@Inject(PEER_TOKEN) setting: AdminTokenSetting) {
    super(setting);
  }
}
