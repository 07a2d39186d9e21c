import { Module } from '@nestjs/common';
import { DbModule } from '../db/db.module';
import { VersionsController } from './versions.controller';
import { VersionStreams } from './versions.service';

@Module({
  imports: [DbModule],
  controllers: [VersionsController],
  providers: [VersionStreams],
})
export class VersionsModule {}
