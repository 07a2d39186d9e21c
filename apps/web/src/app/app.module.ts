import { DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { HealthModule } from '@vita/health';
import { EnvModule } from '@vita/runtime';
import { AssetStore, resourceDir } from './static/assets';
import { AssetsController } from './static/assets.controller';
import { SiteFilesController } from './static/site-files.controller';
import { ResumePages } from './themes/resume-pages';
import type { WebEnv } from './config/env';
import { ErrorPages } from './errors/error-pages';
import { HtmlExceptionFilter } from './errors/html-exception.filter';
import { PageRoutes } from './page/page.routes';
import { PageRenderer } from './page/page.renderer';
import { ResumeCache } from './resume/resume-cache.service';
import { ResumeModule } from './resume/resume.module';

/** Where browsers fetch the static files: the CDN / object storage when configured, else this server. */
export const assetBaseUrl = (env: WebEnv): string => env.ASSET_BASE_URL?.replace(/\/$/, '') ?? '/assets';

@Module({})
export class AppModule {
  static forRoot(env: WebEnv): DynamicModule {
    return {
      module: AppModule,
      imports: [
        EnvModule.forRoot(env),
        ResumeModule,
        HealthModule.forRootAsync({
          imports: [ResumeModule],
          inject: [ResumeCache],
          useFactory: (resumes: ResumeCache) => ({
            indicators: [
              {
                name: 'api',
                // Ready when a document can be served: cached already, or an api gives one now.
                check: async () => {
                  if (!resumes.hasDocument) await resumes.read('readiness').catch(() => undefined);
                  return {
                    ok: resumes.hasDocument,
                    detail: { ...resumes.status(), instances: resumes.pool.status() },
                    ...(resumes.hasDocument ? {} : { error: 'no api instance has answered and nothing is cached' }),
                  };
                },
              },
            ],
          }),
        }),
      ],
      controllers: [AssetsController, SiteFilesController],
      providers: [
        PageRenderer,
        ResumePages,
        PageRoutes,
        ErrorPages,
        { provide: AssetStore, useFactory: () => new AssetStore(resourceDir('assets'), assetBaseUrl(env)) },
        { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) },
        { provide: APP_FILTER, useClass: HtmlExceptionFilter },
      ],
    };
  }
}
