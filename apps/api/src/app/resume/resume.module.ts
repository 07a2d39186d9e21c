import { Module } from '@nestjs/common';
import { DbModule } from '../db/db.module';
import { ResumeController } from './resume.controller';
import { ResumeService } from './resume.service';

@Module({
  imports: [DbModule],
  controllers: [ResumeController],
  providers: [ResumeService],
})
export class ResumeModule {}
