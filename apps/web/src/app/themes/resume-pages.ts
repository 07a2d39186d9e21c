import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { JsonResume } from '@vita/contracts';
import { ENV } from '@vita/runtime';
import { createHash } from 'node:crypto';
import type { WebEnv } from '../config/env';
import { PageRenderer } from '../page/page.renderer';
import type { Header } from '../security/security-headers';
import { AssetStore } from '../static/assets';
import { withHeadLinks } from './head-links';
import { pagePolicy, type ScriptAllowance, scriptsOf } from './page-policy';
import { THEME_CHECK_DOCUMENT } from './sample';
import { loadTheme, type Theme, ThemeError, themePackage } from './theme';

/** A page for one version of the document: its HTML, its ETag, and headers of its own (a theme's CSP). */
export interface ResumePage {
  html: string;
  etag: string;
  headers?: Header[];
}

/** A theme in use, with the scripts it writes on its own (read from its page for web's sample document). */
interface ThemeInUse {
  theme: Theme;
  scripts: ScriptAllowance;
}

/** The page a document has: from a JSON Resume theme or web's own. */
@Injectable()
export class ResumePages implements OnModuleInit {
  private readonly log = new Logger('ResumePages');
  /** RESUME_THEME, loaded and tried at start-up. */
  private configured: ThemeInUse | null = null;
  /** The themes documents named in `meta.theme`, loaded on first use (or why they cannot be). */
  private readonly named = new Map<string, Promise<ThemeInUse>>();
  private readonly assetOrigin: string | undefined;

  constructor(
    private readonly builtIn: PageRenderer,
    private readonly assets: AssetStore,
    @Inject(ENV) private readonly env: WebEnv,
  ) {
    this.assetOrigin = env.ASSET_BASE_URL ? new URL(env.ASSET_BASE_URL).origin : undefined;
  }

  /** RESUME_THEME must load and render a sample document, or web does not start. */
  async onModuleInit(): Promise<void> {
    const name = this.env.RESUME_THEME;
    if (name === undefined) return;
    try {
      const inUse = await this.tried(loadTheme(name));
      this.configured = inUse;
      this.named.set(inUse.theme.name, Promise.resolve(inUse));
      this.log.log(`pages are rendered with ${inUse.theme.name}`);
    } catch (err) {
      throw new Error(`RESUME_THEME=${name}: ${describe(err)}`);
    }
  }

  /** The page of `doc`: its `meta.theme` when that is installed, else RESUME_THEME, else the built-in page. */
  async page(doc: JsonResume): Promise<ResumePage> {
    const wanted = doc.meta?.['theme'];
    let inUse = this.configured;
    if (typeof wanted === 'string' && wanted.trim() !== '') {
      try {
        const pkg = themePackage(wanted);
        inUse = await (this.named.get(pkg) ?? this.load(pkg));
      } catch (err) {
        this.log.warn(`meta.theme "${wanted.slice(0, 80)}": ${describe(err)}; serving the ${inUse ? inUse.theme.name : 'built-in'} page`);
      }
    } else if (wanted !== undefined && wanted !== null && typeof wanted !== 'string') {
      this.log.warn(`meta.theme is ${typeof wanted}, not a theme name; serving the ${inUse ? inUse.theme.name : 'built-in'} page`);
    }
    if (inUse === null) return this.builtIn.resume(doc);
    try {
      return this.themed(await inUse.theme.render(this.withAssetUrls(doc)), inUse.scripts);
    } catch (err) {
      this.log.error(`${inUse.theme.name} failed on this document (${describe(err)}): serving the built-in page`);
      return this.builtIn.resume(doc);
    }
  }

  /** A theme rendered once on web's sample document: it works, and what scripts it writes on its own. */
  private async tried(theme: Theme): Promise<ThemeInUse> {
    return { theme, scripts: scriptsOf(await theme.render(THEME_CHECK_DOCUMENT)) };
  }

  /** A portrait named by file (`portrait.svg`, one of web's assets) becomes its URL, as on the built-in page. */
  private withAssetUrls(doc: JsonResume): JsonResume {
    const image = doc.basics?.image;
    const url = image ? this.assets.url(image) : undefined;
    return url === undefined ? doc : { ...doc, basics: { ...doc.basics, image: url } };
  }

  private load(pkg: string): Promise<ThemeInUse> {
    const loading = Promise.resolve().then(() => this.tried(loadTheme(pkg)));
    this.named.set(pkg, loading);
    // One that cannot be loaded is tried again with the next version (it may be installed by then).
    loading.catch(() => this.named.delete(pkg));
    return loading;
  }

  private themed(rendered: string, scripts: ScriptAllowance): ResumePage {
    const html = withHeadLinks(rendered, { canonical: this.env.PUBLIC_URL, icon: this.assets.url('icon.svg') ?? '/favicon.ico' });
    const etag = `"${createHash('sha256').update(html).digest('base64url').slice(0, 22)}"`;
    return { html, etag, headers: [['content-security-policy', pagePolicy(html, { assetOrigin: this.assetOrigin, scripts })]] };
  }
}

const describe = (err: unknown): string => (err instanceof ThemeError ? err.message : String((err as Error)?.message ?? err).split('\n')[0].slice(0, 200));
