import { Module } from '@nestjs/common';
import { ADMIN_TOKEN, ENV } from '@vita/runtime';
import { ActionsModule } from '../actions/actions.module';
import type { ReplConfig } from '../config/config';
import { DbModule } from '../db/db.module';
import { JoinController } from './join.controller';
import { SitesService } from './sites.service';

/** The content nodes of the topology: watched as soon as they join. */
@Module({
  imports: [DbModule, ActionsModule],
  controllers: [JoinController],
  providers: [SitesService, { provide: ADMIN_TOKEN, inject: [ENV], useFactory: (config: ReplConfig) => ({ token: config.env.REPL_JOIN_SECRET, variable: 'REPL_JOIN_SECRET' }) }],
  exports: [SitesService],
})
export class SitesModule {}
