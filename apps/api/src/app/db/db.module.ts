import { Module } from '@nestjs/common';
import { PrimaryDatabase } from './primary.service';
import { ReadDatabases } from './read-databases.service';

@Module({
  providers: [ReadDatabases, PrimaryDatabase],
  exports: [ReadDatabases, PrimaryDatabase],
})
export class DbModule {}
