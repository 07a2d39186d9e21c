import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { MetricsModule } from '../metrics/metrics.module';
import { AlertService } from './alert.service';

@Module({ imports: [AuditModule, MetricsModule], providers: [AlertService], exports: [AlertService] })
export class AlertsModule {}
