import { Module } from '@nestjs/common';
import { AlertsModule } from '../alerts/alerts.module';
import { AuditModule } from '../audit/audit.module';
import { DbModule } from '../db/db.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RepairModule } from '../repair/repair.module';
import { HeartbeatService } from './heartbeat.service';
import { PollerService } from './poller.service';

@Module({
  imports: [AlertsModule, AuditModule, DbModule, MetricsModule, RepairModule],
  providers: [HeartbeatService, PollerService],
  exports: [PollerService],
})
export class MonitorModule {}
