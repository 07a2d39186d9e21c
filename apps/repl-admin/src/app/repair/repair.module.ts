import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DbModule } from '../db/db.module';
import { MetricsModule } from '../metrics/metrics.module';
import { AutoRepairService } from './auto-repair.service';

@Module({ imports: [AuditModule, DbModule, MetricsModule], providers: [AutoRepairService], exports: [AutoRepairService] })
export class RepairModule {}
