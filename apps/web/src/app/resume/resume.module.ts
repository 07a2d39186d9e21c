import { Module } from '@nestjs/common';
import { ResumeCache } from './resume-cache.service';

@Module({ providers: [ResumeCache], exports: [ResumeCache] })
export class ResumeModule {}
