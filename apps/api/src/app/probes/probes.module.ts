import { Module } from '@nestjs/common';
import { DbModule } from '../db/db.module';
import { ProbesController } from './probes.controller';

@Module({ imports: [DbModule], controllers: [ProbesController] })
export class ProbesModule {}
