import { Module } from '@nestjs/common';
import { ADMIN_TOKEN, ENV } from '@vita/runtime';
import type { ReplConfig } from '../config/config';
import { AuditModule } from '../audit/audit.module';
import { DbModule } from '../db/db.module';
import { MetricsModule } from '../metrics/metrics.module';
import { MonitorModule } from '../monitor/monitor.module';
import { RepairModule } from '../repair/repair.module';
import { ActionsController } from './actions.controller';
import { ActionsService } from './actions.service';

@Module({
  imports: [AuditModule, DbModule, MetricsModule, MonitorModule, RepairModule],
  controllers: [ActionsController],
  exports: [ActionsService],
  providers: [
    ActionsService,
    { provide: ADMIN_TOKEN, inject: [ENV], useFactory: (config: ReplConfig) => ({ token: config.env.REPL_ADMIN_TOKEN, variable: 'REPL_ADMIN_TOKEN' }) },
  ],
})
export class ActionsModule {}
