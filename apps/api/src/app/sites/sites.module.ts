import { Module } from '@nestjs/common';
import { ADMIN_TOKEN_PROVIDER } from '../config/admin-token.provider';
import { DbModule } from '../db/db.module';
import { SitesController } from './sites.controller';

@Module({
  imports: [DbModule],
  controllers: [SitesController],
  providers: [ADMIN_TOKEN_PROVIDER],
})
export class SitesModule {}
