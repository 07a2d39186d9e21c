import { createHash } from 'node:crypto';

/** What a page really loads and runs, as a Content-Security-Policy must allow it. */
export interface PageContents {
  /** Inline `<style>` blocks and `style` attributes, as the browser hashes them. */
  inlineStyles: string[];
  styleAttributes: string[];
  /** Inline scripts (not data blocks such as JSON-LD), and `on…` handler attributes. */
  inlineScripts: string[];
  handlerAttributes: string[];
  /** The sources (CSP source expressions) of external stylesheets, scripts, images and fonts. */
  styles: Set<string>;
  scripts: Set<string>;
  images: Set<string>;
  fonts: Set<string>;
}

const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'noembed', 'noframes', 'iframe', 'noscript']);

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** Character references in an attribute value, decoded as a browser does for the common ones. */
function decodeEntities(value: string): string {
  return value.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

interface Tag {
  name: string;
  attributes: Map<string, string>;
  /** Index just past the tag's `>`. */
  end: number;
}

/** Reads the tag that starts at `at` (`<name …>`), attribute values unquoted and decoded; null when none starts there. */
function readTag(html: string, at: number): Tag | null {
  const name = /^<([a-zA-Z][a-zA-Z0-9-]*)/.exec(html.slice(at, at + 64));
  if (!name) return null;
  const attributes = new Map<string, string>();
  const attribute = /\s*([^\s/>=][^\s/>=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?|\s*\/|\s*>/y;
  attribute.lastIndex = at + name[0].length;
  for (let steps = 0; attribute.lastIndex < html.length && steps < 10_000; steps++) {
    const from = attribute.lastIndex;
    const m = attribute.exec(html);
    if (!m) {
      // Markup no attribute rule reads (a stray quote): the tag ends at the next `>`.
      const gt = html.indexOf('>', from);
      return { name: name[1].toLowerCase(), attributes, end: gt < 0 ? html.length : gt + 1 };
    }
    if (m[0].endsWith('>') && m[1] === undefined) return { name: name[1].toLowerCase(), attributes, end: attribute.lastIndex };
    if (m[1] !== undefined) {
      const key = m[1].toLowerCase();
      // The first of two attributes with one name is the one a browser keeps.
      if (!attributes.has(key)) attributes.set(key, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
    }
  }
  return { name: name[1].toLowerCase(), attributes, end: html.length };
}

/**
 * The CSP source for a URL the page references: 'self' for one on this site (relative), the origin of
 * an absolute http(s) one, the host alone for a scheme-relative one (`//cdn.example/x`: the page's own
 * scheme), `data:` for inline data. Anything else (`javascript:`, a bad URL) allows nothing.
 */
export function sourceOf(url: string): string | undefined {
  const u = url.trim();
  if (u === '') return undefined;
  if (/^data:/i.test(u)) return 'data:';
  if (u.startsWith('//')) {
    const host = /^\/\/([^/?#\\]+)/.exec(u)?.[1];
    return host && /^[a-z0-9.-]+(:\d{1,5})?$/i.test(host) ? host.toLowerCase() : undefined;
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(u)) {
    try {
      const parsed = new URL(u);
      return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.origin : undefined;
    } catch {
      return undefined;
    }
  }
  return "'self'";
}

/** The URLs a piece of CSS loads: `@import`s as styles, `url()`s inside `@font-face` as fonts, other `url()`s as images. */
function cssReferences(css: string, into: PageContents): void {
  const add = (set: Set<string>, url: string) => {
    const source = sourceOf(url.replace(/^['"]|['"]$/g, ''));
    if (source !== undefined) set.add(source);
  };
  for (const m of css.matchAll(/@import\s+(?:url\(\s*)?(['"]?)([^'")\s;]+)\1/gi)) add(into.styles, m[2]);
  const fontFaces = [...css.matchAll(/@font-face\s*\{[^}]*\}/gi)];
  for (const face of fontFaces) for (const m of face[0].matchAll(/url\(\s*([^)]*?)\s*\)/gi)) add(into.fonts, m[1]);
  const rest = fontFaces.reduce((text, face) => text.replace(face[0], ''), css).replace(/@import[^;]*;/gi, '');
  for (const m of rest.matchAll(/url\(\s*([^)]*?)\s*\)/gi)) add(into.images, m[1]);
}

const SCRIPT_TYPES = /^(|text\/javascript|application\/javascript|module|text\/ecmascript|application\/ecmascript)$/i;

/** Pure: what an HTML page loads and runs inline, read from its markup. */
export function pageContents(html: string): PageContents {
  const found: PageContents = { inlineStyles: [], styleAttributes: [], inlineScripts: [], handlerAttributes: [], styles: new Set(), scripts: new Set(), images: new Set(), fonts: new Set() };
  let at = 0;
  for (let steps = 0; steps < 200_000; steps++) {
    const lt = html.indexOf('<', at);
    if (lt < 0) break;
    if (html.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      at = close < 0 ? html.length : close + 3;
      continue;
    }
    const tag = readTag(html, lt);
    if (tag === null) {
      at = lt + 1;
      continue;
    }
    at = tag.end;
    const attr = (name: string) => tag.attributes.get(name);
    for (const [name, value] of tag.attributes) {
      if (name === 'style') {
        found.styleAttributes.push(value);
        cssReferences(value, found);
      } else if (name.startsWith('on')) found.handlerAttributes.push(value);
    }
    const src = attr('src');
    if (tag.name === 'img' || tag.name === 'source' || tag.name === 'picture') {
      if (src !== undefined) addSource(found.images, src);
      for (const candidate of (attr('srcset') ?? '').split(',')) addSource(found.images, candidate.trim().split(/\s+/)[0] ?? '');
    } else if (tag.name === 'link') {
      const rel = (attr('rel') ?? '').toLowerCase().split(/\s+/);
      const href = attr('href') ?? '';
      if (rel.includes('stylesheet')) addSource(found.styles, href);
      else if (rel.includes('icon') || rel.includes('apple-touch-icon')) addSource(found.images, href);
      else if (rel.includes('preload') && attr('as') === 'font') addSource(found.fonts, href);
    }
    if (RAW_TEXT.has(tag.name)) {
      const close = new RegExp(`</${tag.name}\\s*>`, 'ig');
      close.lastIndex = tag.end;
      const end = close.exec(html);
      const content = html.slice(tag.end, end ? end.index : html.length);
      at = end ? close.lastIndex : html.length;
      if (tag.name === 'style') {
        found.inlineStyles.push(content);
        cssReferences(content, found);
      } else if (tag.name === 'script') {
        if (src !== undefined) addSource(found.scripts, src);
        else if (SCRIPT_TYPES.test((attr('type') ?? '').trim())) found.inlineScripts.push(content);
      }
    }
  }
  return found;
}

function addSource(set: Set<string>, url: string): void {
  const source = sourceOf(url);
  if (source !== undefined) set.add(source);
}

const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
const unique = (list: string[]) => [...new Set(list)];

/**
 * Pure: the Content-Security-Policy for one rendered page, allowing exactly what its markup contains
 * and nothing more: each inline `<style>` and `<script>` by its hash, each `style` and `on…`
 * attribute by its hash ('unsafe-hashes'), and the origins of the stylesheets, scripts, images and
 * fonts it references. Never 'unsafe-inline'. The fonts and pictures a linked stylesheet loads cannot
 * be seen from the page, so a page that links another site's stylesheet may load those over https. `assetOrigin`:
 * where web's own files are served from, when not this site.
 */
export function pagePolicy(html: string, assetOrigin?: string): string {
  const c = pageContents(html);
  const own = ["'self'", ...(assetOrigin ? [assetOrigin] : [])];
  const external = [...c.styles].some((s) => s !== "'self'");
  const styleHashes = unique(c.inlineStyles.map(hash));
  const attrHashes = unique(c.styleAttributes.map(hash));
  const style = unique([...own, ...c.styles, ...styleHashes, ...(attrHashes.length > 0 ? ["'unsafe-hashes'", ...attrHashes] : [])]);
  const handlerHashes = unique(c.handlerAttributes.map(hash));
  const script = unique([...c.scripts, ...unique(c.inlineScripts.map(hash)), ...(handlerHashes.length > 0 ? ["'unsafe-hashes'", ...handlerHashes] : [])]);
  const directives: [string, string[]][] = [
    ['default-src', ["'none'"]],
    ['style-src', style],
    ['script-src', script.length > 0 ? script : ["'none'"]],
    ['img-src', unique([...own, 'data:', ...c.images, ...(external ? ['https:'] : [])])],
    ['font-src', unique([...own, 'data:', ...c.fonts, ...(external ? ['https:'] : [])])],
    // The page's own files (robots.txt, the document) may be fetched from it, as Lighthouse does.
    ['connect-src', ["'self'"]],
    ['base-uri', ["'none'"]],
    ['form-action', ["'none'"]],
    ['frame-ancestors', ["'none'"]],
  ];
  return directives.map(([name, sources]) => `${name} ${sources.join(' ')}`).join('; ');
}
