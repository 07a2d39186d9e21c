import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ENV } from '@vita/runtime';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebEnv } from '../config/env';
import { ErrorPages } from '../errors/error-pages';
import type { Header } from '../security/security-headers';
import { CachedResume, ResumeCache } from '../resume/resume-cache.service';
import { ResumePages } from '../themes/resume-pages';
import { encodeAll, encodedTag, type EncodedBodies, type Encoding, EncodingChooser } from '../compression/encodings';

/** Every body of these routes comes in several codings: a cache keeps one per Accept-Encoding. */
const VARY: Header = ['vary', 'accept-encoding'];

/** One coding of a body, with the headers that go with it. */
interface Variant {
  etag: string;
  /** Headers of a fresh 200: Content-Type, Content-Length, Content-Encoding, Vary, ETag, Cache-Control and any of the route's own. */
  ok: Header[];
  /** Headers of a fresh 304: the same without Content-Type, Content-Length and Content-Encoding. */
  notModified: Header[];
}

/** One response body for one version of the document, in every coding worth sending, built once. */
interface PreparedBody {
  /** The document version it shows, when the api gave one. */
  version?: number;
  bodies: EncodedBodies;
  variants: Partial<Record<Encoding, Variant>> & { identity: Variant };
  /** Every variant's ETag: a client holding any of them holds this version. */
  etags: string[];
}

/** What a route sends for a version of the document. */
interface Representation {
  /** Its entry in the document's memo. */
  key: string;
  type: string;
  /** Headers of this route besides the usual ones. */
  extra: Header[];
  build(resume: CachedResume): Promise<{ text: string; etag: string; headers?: Header[] }>;
}

/** A body being built, and once built, readable without waiting. */
interface Memo {
  building: Promise<PreparedBody>;
  ready?: PreparedBody;
}

/** True when If-None-Match names this ETag (weak or strong, alone or in a list). */
function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  // `*` matches any current representation (RFC 9110 §13.1.2).
  if (ifNoneMatch.trim() === '*') return true;
  // The common case, one strong tag as sent back by a browser or a CDN, without splitting.
  if (ifNoneMatch === etag) return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** A version tag `"v<n>"` or `"v<n>-<hash>"`, as web's page and document ETags are. */
const VERSION_TAG = /^(?:W\/)?("v(\d{1,15})(?:-[\w-]{1,64})?")$/;

/**
 * The newest tag of If-None-Match when it names a version above `held`: that client has already seen
 * a newer document (behind lb, from another web instance), so it is told to keep it, never sent an
 * older one. Undefined otherwise, and for any tag that is not a version tag.
 */
function newerTag(ifNoneMatch: string | undefined, held: number | undefined): string | undefined {
  if (ifNoneMatch === undefined || held === undefined || ifNoneMatch.length > 1024) return undefined;
  let best: { tag: string; version: number } | undefined;
  for (const member of ifNoneMatch.split(',')) {
    const match = VERSION_TAG.exec(member.trim());
    const version = match ? Number(match[2]) : -1;
    if (match && version > held && version > (best?.version ?? -1)) best = { tag: match[1], version };
  }
  return best?.tag;
}

/**
 * `GET /` (the résumé page, rendered once per version of the document) and `GET /resume.json` (the
 * document, for download). They are web's hot path, so they are routes on the Fastify instance itself
 * rather than Nest controllers: a request for a fresh document is answered synchronously from a
 * prebuilt Buffer and header list. Failures go to ErrorPages, as those of Nest routes do.
 */
@Injectable()
export class PageRoutes implements OnModuleInit {
  private readonly log = new Logger(PageRoutes.name);
  private readonly cacheControl: string;
  private readonly page: Representation;
  private readonly json: Representation;
  private readonly encodings = new EncodingChooser();

  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly cache: ResumeCache,
    private readonly errors: ErrorPages,
    pages: ResumePages,
    @Inject(ENV) env: WebEnv,
  ) {
    this.cacheControl = `public, max-age=${env.PAGE_MAX_AGE_SECONDS}`;
    this.page = {
      key: 'page',
      type: 'text/html; charset=utf-8',
      extra: [],
      build: async (resume) => {
        const { html, etag, headers } = await pages.page(resume.document);
        // The version leads the tag, so a client's revalidation tells any web instance what it holds.
        return { text: html, etag: resume.version === undefined ? etag : `"v${resume.version}-${etag.slice(1)}`, headers };
      },
    };
    this.json = {
      key: 'json',
      type: 'application/json; charset=utf-8',
      extra: [['content-disposition', 'attachment; filename="resume.json"']],
      build: async (resume) => ({ text: resume.json, etag: resume.etag }),
    };
  }

  onModuleInit(): void {
    const app = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    app.get('/', (request, reply) => this.serve(request, reply, this.page));
    app.get('/resume.json', (request, reply) => this.serve(request, reply, this.json));
    this.log.log('Mapped {/, GET} and {/resume.json, GET} on Fastify');
  }

  /** Synchronous while the document is fresh and its body built; otherwise asks the cache (and maybe an api). */
  private serve(request: FastifyRequest, reply: FastifyReply, representation: Representation): Promise<void> | undefined {
    const fresh = this.cache.fresh();
    const ready = fresh && (fresh.memo.get(representation.key) as Memo | undefined)?.ready;
    if (ready) {
      this.send(request, reply, ready);
      return undefined;
    }
    return this.serveAfterRead(request, reply, representation);
  }

  private async serveAfterRead(request: FastifyRequest, reply: FastifyReply, representation: Representation): Promise<void> {
    try {
      const read = await this.cache.read(request.id);
      this.send(request, reply, await this.prepare(read.resume, representation), read.staleSeconds);
    } catch (err) {
      await this.errors.send(err, request, reply);
    }
  }

  /** The body of this version, built (and compressed) on first use and kept on the version (a failed build is tried again). */
  private prepare(resume: CachedResume, representation: Representation): Promise<PreparedBody> {
    const found = resume.memo.get(representation.key) as Memo | undefined;
    if (found) return found.building;
    const memo: Memo = {
      building: representation.build(resume).then(async ({ text, etag, headers = [] }) => {
        const bodies = await encodeAll(Buffer.from(text, 'utf8'));
        const variant = (encoding: Encoding, body: Buffer): Variant => {
          const tag = encodedTag(etag, encoding);
          const shared: Header[] = [['etag', tag], ['cache-control', this.cacheControl], VARY, ...representation.extra];
          const coding: Header[] = encoding === 'identity' ? [] : [['content-encoding', encoding]];
          // A 304 updates the headers a cache holds: it carries the page's own CSP too.
          return { etag: tag, ok: [['content-type', representation.type], ['content-length', String(body.length)], ...coding, ...shared, ...headers], notModified: [...shared, ...headers] };
        };
        const variants = { identity: variant('identity', bodies.identity) } as PreparedBody['variants'];
        for (const encoding of ['br', 'gzip'] as const) {
          const body = bodies[encoding];
          if (body !== undefined) variants[encoding] = variant(encoding, body);
        }
        memo.ready = { version: resume.version, bodies, variants, etags: Object.values(variants).map((v) => v.etag) };
        return memo.ready;
      }),
    };
    memo.building.catch(() => resume.memo.delete(representation.key));
    resume.memo.set(representation.key, memo);
    return memo.building;
  }

  private send(request: FastifyRequest, reply: FastifyReply, prepared: PreparedBody, staleSeconds?: number): void {
    const ifNoneMatch = request.headers['if-none-match'];
    const encoding = this.encodings.choose(request.headers['accept-encoding'], prepared.bodies);
    const variant = prepared.variants[encoding] ?? prepared.variants.identity;
    const newer = newerTag(ifNoneMatch, prepared.version);
    const unchanged = newer !== undefined || (ifNoneMatch !== undefined && prepared.etags.some((etag) => notModified(ifNoneMatch, etag)));
    for (const [name, value] of unchanged ? variant.notModified : variant.ok) reply.header(name, value);
    // The client already holds a newer version (from a web instance that learnt of it first): it keeps
    // it, and the headers it came with (this version's CSP would not fit that page).
    if (newer !== undefined) reply.header('etag', newer).removeHeader('content-security-policy');
    if (staleSeconds !== undefined) {
      // Every api failed: this is the last good copy. Say so, and keep shared caches from holding it.
      reply.header('x-vita-stale', String(staleSeconds)).header('cache-control', 'no-cache');
    }
    if (unchanged) reply.code(304).send();
    else reply.send(prepared.bodies[encoding] ?? prepared.bodies.identity);
  }
}
