import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { AuditService } from './audit.service';
import { ReplicaLocks } from './replica-locks';

/** The audit log and the per-replica action lock shared by manual and automatic actions. */
@Module({ imports: [MetricsModule], providers: [AuditService, ReplicaLocks], exports: [AuditService, ReplicaLocks] })
export class AuditModule {}
