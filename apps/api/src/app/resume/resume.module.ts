import { Module } from '@nestjs/common';
import { ADMIN_TOKEN_PROVIDER } from '../config/admin-token.provider';
import { DbModule } from '../db/db.module';
import { ResumeController } from './resume.controller';
import { ResumeService } from './resume.service';

@Module({
  imports: [DbModule],
  controllers: [ResumeController],
  providers: [ResumeService, ADMIN_TOKEN_PROVIDER],
})
export class ResumeModule {}
