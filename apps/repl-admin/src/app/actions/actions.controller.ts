import { AdminTokenGuard } from '@vita/runtime';
import { Body, Controller, HttpCode, Param, Post, Req, UseGuards } from '@nestjs/common';
import { type ActionRecordDto, type DriftReportDto, type ReplicaAction, RebuildRequestDto, RepointRequestDto, ReplicaActionRequestDto } from '@vita/contracts';
import { ActionsService, type ActionRequest } from './actions.service';

interface WithId {
  id: string;
}

/**
 * Token-protected actions. Each takes `{ "reason": "…", "dryRun": true|false }` and answers the audit record:
 * 200 (done or dry-run), 409 (a precondition failed; nothing was run), 500 (the action failed).
 */
@Controller('api/v1/replicas/:name')
@UseGuards(AdminTokenGuard)
export class ActionsController {
  constructor(private readonly actions: ActionsService) {}

  private run(action: ReplicaAction, name: string, body: ActionRequest, req: WithId): Promise<ActionRecordDto> {
    return this.actions.perform(action, name, body, req.id);
  }

  @Post('actions/restart')
  @HttpCode(200)
  restart(@Param('name') name: string, @Body() body: ReplicaActionRequestDto, @Req() req: WithId) {
    return this.run('restart', name, body, req);
  }

  @Post('actions/repoint')
  @HttpCode(200)
  repoint(@Param('name') name: string, @Body() body: RepointRequestDto, @Req() req: WithId) {
    return this.run('repoint', name, body, req);
  }

  @Post('actions/read-only')
  @HttpCode(200)
  readOnly(@Param('name') name: string, @Body() body: ReplicaActionRequestDto, @Req() req: WithId) {
    return this.run('read-only', name, body, req);
  }

  @Post('actions/rebuild')
  @HttpCode(200)
  rebuild(@Param('name') name: string, @Body() body: RebuildRequestDto, @Req() req: WithId) {
    return this.run('rebuild', name, body, req);
  }

  /** Drift check on demand (briefly read-locks the Vita tables on the primary, hence the token). */
  @Post('drift')
  @HttpCode(200)
  drift(@Param('name') name: string, @Req() req: WithId): Promise<DriftReportDto> {
    return this.actions.drift(name, req.id);
  }
}
