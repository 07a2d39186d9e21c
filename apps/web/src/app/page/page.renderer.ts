import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { JsonResume } from '@vita/contracts';
import { createHash } from 'node:crypto';
import { AssetStore } from '../static/assets';
import { ENV } from '@vita/runtime';
import type { WebEnv } from '../config/env';
import { dateRange, formatDate, formatLocation, hasItems, personJsonLd, safeHref, scriptSafeJson } from './page.model';

export interface RenderedPage {
  html: string;
  etag: string;
}

/** The view helpers the templates use. */
const helpers = { dateRange, formatDate, formatLocation, hasItems, safeHref, escape: escapeHtml };

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface ViewInstance {
  view(template: string, data: object): Promise<string>;
}

/** Renders pages through @fastify/view (Eta templates in views/), always inside the layout. */
@Injectable()
export class PageRenderer {
  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly assets: AssetStore,
    @Inject(ENV) private readonly env: WebEnv,
  ) {}

  async resume(doc: JsonResume): Promise<RenderedPage> {
    const b = doc.basics ?? {};
    const picture = this.pictureUrl(b.image);
    const title = [b.name, b.label].filter(Boolean).join(' — ') || 'Résumé';
    const canonical = this.env.PUBLIC_URL ?? safeHref(doc.meta?.canonical?.replace(/resume\.json$/, '')) ?? safeHref(b.url);
    const og: [string, string | undefined][] = [
      ['og:type', 'profile'],
      ['og:title', title],
      ['og:description', b.summary?.slice(0, 300)],
      ['og:image', picture],
      ['og:url', canonical],
    ];
    const head = [
      ...og.filter(([, v]) => v).map(([k, v]) => `<meta property="${k}" content="${escapeHtml(v)}">`),
      `<script type="application/ld+json">${scriptSafeJson(personJsonLd(doc, picture))}</script>`,
    ].join('\n');
    const body = await this.view('page.eta', { doc, h: helpers, picture: picture && { src: picture, alt: `Portrait of ${b.name ?? 'the résumé’s author'}` } });
    return this.layout({ title, description: b.summary?.slice(0, 300), head, body });
  }

  async error(heading: string, message: string): Promise<RenderedPage> {
    return this.layout({ title: heading, body: await this.view('error.eta', { heading, message }) });
  }

  private async layout(parts: { title: string; description?: string; head?: string; body: string }): Promise<RenderedPage> {
    const html = await this.view('layout.eta', { ...parts, lang: 'en', cssUrl: this.assets.url('site.css'), iconUrl: this.assets.url('icon.svg'), canonical: this.env.PUBLIC_URL });
    return { html, etag: `"${createHash('sha256').update(html).digest('base64url').slice(0, 22)}"` };
  }

  /** A bare file name that is one of the shipped assets maps to its hashed URL; an absolute URL is kept. */
  private pictureUrl(image: string | undefined): string | undefined {
    if (!image) return undefined;
    return this.assets.url(image) ?? safeHref(image);
  }

  private view(template: string, data: object): Promise<string> {
    return (this.adapter.httpAdapter.getInstance() as ViewInstance).view(template, data);
  }
}
