import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { MonitorModule } from '../monitor/monitor.module';
import { StatusPageController } from './page.controller';
import { TopologyController } from './topology.controller';

@Module({ imports: [AuditModule, MonitorModule], controllers: [TopologyController, StatusPageController] })
export class StatusModule {}
