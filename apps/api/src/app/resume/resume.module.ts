import { Module } from '@nestjs/common';
import { ADMIN_TOKEN, ENV } from '@vita/runtime';
import type { ApiEnv } from '../config/env';
import { DbModule } from '../db/db.module';
import { ResumeController } from './resume.controller';
import { ResumeService } from './resume.service';

@Module({
  imports: [DbModule],
  controllers: [ResumeController],
  providers: [ResumeService, { provide: ADMIN_TOKEN, inject: [ENV], useFactory: (env: ApiEnv) => ({ token: env.VITA_ADMIN_TOKEN, variable: 'VITA_ADMIN_TOKEN' }) }],
})
export class ResumeModule {}
