import { IsIn, IsInt, IsNumber, IsOptional, IsString, IsUrl, Matches, Max, Min } from 'class-validator';
import { Decimal, Integer, LOG_LEVELS, Trimmed } from '@vita/runtime';

const HTTP_URL = String.raw`https?://[A-Za-z0-9.-]+(:\d{1,5})?/?`;

/** Every setting web reads from its environment. The README's table lists the same. */
export class WebEnv {
  @IsOptional() @IsString() HOST = '0.0.0.0';
  @IsOptional() @Integer() @IsInt() @Min(1) @Max(65535) PORT = 3000;
  @IsOptional() @IsIn(LOG_LEVELS) LOG_LEVEL = 'info';
  /** Fraction of successful requests written to the access log (0 to 1); 4xx, 5xx and failures always are. */
  @IsOptional() @Decimal() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(1) ACCESS_LOG_SAMPLE = 1;

  /** Every api instance of this content node, in order of preference. */
  @Trimmed() @Matches(new RegExp(`^${HTTP_URL}(,\\s*${HTTP_URL})*$`), { message: 'must be a comma-separated list of http://host:port URLs' })
  API_URLS!: string;
  @IsOptional() @Integer() @IsInt() @Min(50) @Max(60_000) API_TIMEOUT_MS = 1000;
  /** An instance that failed is skipped for this long (circuit breaker). */
  @IsOptional() @Integer() @IsInt() @Min(0) @Max(600_000) API_RETRY_AFTER_MS = 5000;
  /** Without an open version stream, the document is fresh this long after a check; then the next request has an api asked again (in the background once there is a copy). */
  @IsOptional() @Integer() @IsInt() @Min(0) @Max(3_600_000) CACHE_TTL_MS = 1000;
  /** While a version stream is open: a request finding the last check of the copy older than this has it checked (in the background): the backstop for a missed announcement or a frozen api. */
  @IsOptional() @Integer() @IsInt() @Min(100) @Max(3_600_000) PUSH_CHECK_MS = 2000;
  /** `on`: subscribe to every api instance's version stream and fetch a new version as soon as it is announced; `off`: polling only. */
  @IsOptional() @Trimmed() @IsIn(['on', 'off'], { message: 'must be on or off' }) API_PUSH: 'on' | 'off' = 'on';
  /** `Cache-Control: max-age` of the page, for browsers and a CDN in front. */
  @IsOptional() @Integer() @IsInt() @Min(0) @Max(86_400) PAGE_MAX_AGE_SECONDS = 2;
  /** Serve CSS and pictures from here (object storage or a CDN) instead of /assets. */
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }, { message: 'must be an http(s) URL' })
  ASSET_BASE_URL?: string;

  /** Render the page with this installed JSON Resume theme package (`jsonresume-theme-even`, or `even`); unset: web's own page. A document's `meta.theme` wins when installed. */
  @IsOptional() @Trimmed() @Matches(/^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/, { message: 'must be a theme package name such as jsonresume-theme-even (or even)' })
  RESUME_THEME?: string;
  /** The page's public address (`https://resume.example.org/`): its `<link rel="canonical">`. */
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }, { message: 'must be an http(s) URL' })
  PUBLIC_URL?: string;
  /** `allow`: robots.txt lets search engines index the page; `disallow`: it asks them not to. */
  @IsOptional() @Trimmed() @IsIn(['allow', 'disallow'], { message: 'must be allow or disallow' }) ROBOTS: 'allow' | 'disallow' = 'allow';

  apiUrls(): string[] {
    return this.API_URLS.split(',').map((u) => u.trim().replace(/\/$/, ''));
  }
}
