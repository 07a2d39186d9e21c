import { createHash } from 'node:crypto';

/** What a page really loads and runs, as a Content-Security-Policy must allow it. */
export interface PageContents {
  /** Inline `<style>` blocks and `style` attributes, as the browser hashes them. */
  inlineStyles: string[];
  styleAttributes: string[];
  /** Inline scripts (not data blocks such as JSON-LD), and `on…` handler attributes. */
  inlineScripts: string[];
  handlerAttributes: string[];
  /** The sources (CSP source expressions) of external stylesheets, scripts, images, fonts and media. */
  styles: Set<string>;
  scripts: Set<string>;
  images: Set<string>;
  fonts: Set<string>;
  media: Set<string>;
  /** Every `rel` token of the page's `<link>` elements. */
  linkRels: Set<string>;
}

/** Elements whose content is text up to their end tag, never markup. */
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'noembed', 'noframes', 'iframe', 'noscript']);

const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', semi: ';', colon: ':', comma: ',', period: '.', sol: '/',
  lpar: '(', rpar: ')', lsqb: '[', rsqb: ']', lbrace: '{', rbrace: '}', num: '#', excl: '!', quest: '?', equals: '=', plus: '+',
  percnt: '%', ast: '*', bsol: '\\', Tab: '\t', NewLine: '\n', dollar: '$', commat: '@', hyphen: '-', dash: '-', lowbar: '_', vert: '|',
};

/** Character references in an attribute value, decoded as a browser does (numeric ones with or without `;`, the common named ones). */
function decodeEntities(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(/&(?:#[xX]([0-9a-fA-F]{1,8});?|#(\d{1,10});?|([a-zA-Z][a-zA-Z0-9]{1,31});)/g, (whole, hex?: string, dec?: string, name?: string) => {
    if (name !== undefined) return NAMED[name] ?? NAMED[name.toLowerCase()] ?? whole;
    const code = hex !== undefined ? parseInt(hex, 16) : parseInt(dec ?? '', 10);
    return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : '\ufffd';
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
  const name = /^<([a-zA-Z][^\s/>]*)/.exec(html.slice(at, at + 128));
  if (!name) return null;
  const tag = { name: name[1].toLowerCase(), attributes: new Map<string, string>(), end: html.length };
  const attribute = /\s*([^\s/>][^\s/>=]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?|\s*\/|\s*>/y;
  attribute.lastIndex = at + name[0].length;
  while (attribute.lastIndex < html.length) {
    const from = attribute.lastIndex;
    const m = attribute.exec(html);
    if (!m || m[0].length === 0) {
      const gt = html.indexOf('>', from);
      tag.end = gt < 0 ? html.length : gt + 1;
      return tag;
    }
    if (m[0].endsWith('>') && m[1] === undefined) {
      tag.end = attribute.lastIndex;
      return tag;
    }
    if (m[1] !== undefined) {
      const key = m[1].toLowerCase();
      // The first of two attributes with one name is the one a browser keeps.
      if (!tag.attributes.has(key)) tag.attributes.set(key, decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
    }
  }
  return tag;
}

/** Without ASCII spaces and form feeds at either end (as URL parsing strips them; not U+00A0). Linear, whatever the input. */
function asciiTrim(text: string): string {
  let from = 0;
  let to = text.length;
  while (from < to && (text[from] === ' ' || text[from] === '\f')) from++;
  while (to > from && (text[to - 1] === ' ' || text[to - 1] === '\f')) to--;
  return text.slice(from, to);
}

/**
 * The CSP source for a URL the page references: 'self' for one on this site (relative), the origin of
 * an absolute http(s) one, the host alone for a scheme-relative one (`//cdn.example/x`: the page's own
 * scheme), `data:` for inline data. Anything else (`javascript:`, a bad URL) allows nothing. The URL is
 * read as a browser's URL parser reads it: ASCII whitespace around it and tabs and newlines in it
 * ignored, `\` as `/`.
 */
export function sourceOf(url: string): string | undefined {
  const u = asciiTrim(url.replace(/[\t\n\r]/g, ''));
  if (u === '') return undefined;
  if (/^data:/i.test(u)) return 'data:';
  if (/^[/\\]{2}/.test(u)) {
    const host = /^[/\\]{2}([^/?#\\]+)/.exec(u)?.[1];
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

/** CSS escapes in a token (`\68 ttp`, `\:`), decoded. */
const cssUnescape = (token: string) =>
  token.replace(/\\([0-9a-fA-F]{1,6})[ \t\n\f]?|\\([^\n0-9a-fA-F])/g, (_, hex?: string, char?: string) => (hex !== undefined ? String.fromCodePoint(Math.min(parseInt(hex, 16), 0x10ffff) || 0xfffd) : (char ?? '')));

const unquote = (token: string) => {
  const t = token.trim();
  return t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0] ? t.slice(1, -1) : t;
};

/**
 * The URLs a piece of CSS loads: `@import`s as styles, `url()`s inside `@font-face` as fonts, other
 * `url()`s and `image-set()` strings as images. One pass, linear in the text.
 */
function cssReferences(css: string, into: PageContents): void {
  const add = (set: Set<string>, token: string) => {
    const source = sourceOf(cssUnescape(unquote(token)));
    if (source !== undefined) set.add(source);
  };
  // Where each @font-face block is, to tell its fonts from pictures.
  const faces: [number, number][] = [];
  for (const m of css.matchAll(/@font-face\s{0,64}\{/gi)) {
    const close = css.indexOf('}', m.index);
    faces.push([m.index, close < 0 ? css.length : close]);
    if (close < 0) break;
  }
  // url()s come in order of position: a pointer walks the blocks once.
  let face = 0;
  const inFace = (at: number) => {
    while (face < faces.length && faces[face][1] < at) face++;
    return face < faces.length && at > faces[face][0] && at < faces[face][1];
  };
  for (const m of css.matchAll(/@import/gi)) {
    // What follows, within a bounded stretch: `url(x)`, `url("x")` or `"x"`, whitespace allowed around.
    const rest = css.slice((m.index ?? 0) + 7, (m.index ?? 0) + 7 + 4096);
    const target = /^\s*(?:url\(\s*(?:(["'])([^"'\n]*)\1|([^)\s"']*))\s*\)|(["'])([^"'\n]*)\4)/i.exec(rest);
    if (target) add(into.styles, target[2] ?? target[3] ?? target[5] ?? '');
  }
  for (const m of css.matchAll(/(url|image-set|-webkit-image-set)\(/gi)) {
    const open = (m.index ?? 0) + m[0].length;
    const close = css.indexOf(')', open);
    const inner = css.slice(open, close < 0 ? css.length : close);
    const before = css.slice(Math.max(0, (m.index ?? 0) - 80), m.index);
    if (!/@import\s*$/i.test(before)) {
      if (m[1].toLowerCase() === 'url') add(inFace(m.index ?? 0) ? into.fonts : into.images, inner);
      else for (const s of inner.matchAll(/(["'])([^"'\n]{0,2048})\1/g)) add(into.images, s[2]);
    }
    // No `)` after this one: none after any later one either (and looking again would be quadratic).
    if (close < 0) break;
  }
}

/** `type` values that make a `<script>` run (or be read as script-like, as import maps and speculation rules are): the rest are data blocks. */
const SCRIPT_TYPES = new Set([
  '', 'module', 'importmap', 'speculationrules',
  ...['application/ecmascript', 'application/javascript', 'application/x-ecmascript', 'application/x-javascript', 'text/ecmascript', 'text/javascript', 'text/javascript1.0', 'text/javascript1.1', 'text/javascript1.2', 'text/javascript1.3', 'text/javascript1.4', 'text/javascript1.5', 'text/jscript', 'text/livescript', 'text/x-ecmascript', 'text/x-javascript'],
]);

/** Event handler attribute names (`onload`, `onclick`…), not other words that start with "on". */
const HANDLER = /^on[a-z]{3,}$/;

/** Pure: what an HTML page loads and runs inline, read from its markup as an HTML parser reads it. */
export function pageContents(source: string): PageContents {
  // The parser sees every CR LF and lone CR as LF: hashes are of that text.
  const html = source.replace(/\r\n?/g, '\n');
  const found: PageContents = { inlineStyles: [], styleAttributes: [], inlineScripts: [], handlerAttributes: [], styles: new Set(), scripts: new Set(), images: new Set(), fonts: new Set(), media: new Set(), linkRels: new Set() };
  const add = (set: Set<string>, url: string | undefined) => {
    const s = url === undefined ? undefined : sourceOf(url);
    if (s !== undefined) set.add(s);
  };
  let at = 0;
  // Inside <svg> or <math> (foreign content) <style> and <script> hold markup; inside <template> nothing runs or loads.
  let foreign = 0;
  let template = 0;
  // Every step moves past at least one character: bounded by the page's length.
  while (at < html.length) {
    const lt = html.indexOf('<', at);
    if (lt < 0) break;
    const endTag = /^<\/(svg|math|template)[\s/>]/i.exec(html.slice(lt, lt + 12));
    if (endTag) {
      if (endTag[1].toLowerCase() === 'template') template = Math.max(0, template - 1);
      else foreign = Math.max(0, foreign - 1);
      at = lt + 2;
      continue;
    }
    if (html.startsWith('<!--', lt)) {
      // `<!-->` and `<!--->` are empty comments; any other runs to `-->` (or `--!>`).
      if (html.startsWith('<!-->', lt) || html.startsWith('<!--->', lt)) {
        at = lt + (html.startsWith('<!-->', lt) ? 5 : 6);
        continue;
      }
      const close = /--!?>/g;
      close.lastIndex = lt + 4;
      const end = close.exec(html);
      at = end ? close.lastIndex : html.length;
      continue;
    }
    const tag = readTag(html, lt);
    if (tag === null) {
      at = lt + 1;
      continue;
    }
    at = Math.max(tag.end, lt + 1);
    const selfClosing = html[tag.end - 2] === '/';
    if ((tag.name === 'svg' || tag.name === 'math') && !selfClosing) foreign++;
    if (tag.name === 'template') template++;
    const attr = (name: string) => tag.attributes.get(name);
    for (const [name, value] of tag.attributes) {
      if (name === 'style') {
        found.styleAttributes.push(value);
        cssReferences(value, found);
      } else if (HANDLER.test(name)) found.handlerAttributes.push(value);
    }
    switch (tag.name) {
      case 'img':
      case 'source':
        add(tag.name === 'source' && attr('srcset') === undefined ? found.media : found.images, attr('src'));
        for (const candidate of (attr('srcset') ?? '').split(',')) add(found.images, candidate.trim().split(/\s+/)[0]);
        break;
      case 'image':
        add(found.images, attr('href') ?? attr('xlink:href'));
        break;
      case 'input':
        if ((attr('type') ?? '').toLowerCase() === 'image') add(found.images, attr('src'));
        break;
      case 'body':
      case 'table':
      case 'td':
        add(found.images, attr('background'));
        break;
      case 'video':
      case 'audio':
      case 'track':
        add(found.media, attr('src'));
        add(found.images, attr('poster'));
        break;
      case 'link': {
        const rel = (attr('rel') ?? '').toLowerCase().split(/\s+/).filter(Boolean);
        rel.forEach((r) => found.linkRels.add(r));
        const href = attr('href');
        const as = (attr('as') ?? '').toLowerCase();
        if (rel.includes('stylesheet')) add(found.styles, href);
        else if (rel.includes('icon') || rel.includes('apple-touch-icon')) add(found.images, href);
        else if (rel.includes('modulepreload')) add(found.scripts, href);
        else if (rel.includes('preload') || rel.includes('prefetch')) {
          const kind = { font: found.fonts, style: found.styles, script: found.scripts, image: found.images, audio: found.media, video: found.media }[as];
          if (kind !== undefined) add(kind, href);
        }
        break;
      }
      case 'plaintext':
        // Everything after it is text.
        return found;
    }
    if (foreign > 0 && (tag.name === 'style' || tag.name === 'script')) {
      // An SVG <style> or <script>: its text content is what counts (character references decoded, CDATA sections as they are).
      const close = new RegExp(`</${tag.name}(?=[\\s/>])`, 'ig');
      close.lastIndex = tag.end;
      const end = close.exec(html);
      const raw = html.slice(tag.end, end ? end.index : html.length);
      const content = raw.split(/(<!\[CDATA\[[\s\S]*?\]\]>)/).map((part) => (part.startsWith('<![CDATA[') ? part.slice(9, -3) : decodeEntities(part.replace(/<[^>]*>/g, '')))).join('');
      at = end ? end.index : html.length;
      if (tag.name === 'style') {
        found.inlineStyles.push(content);
        cssReferences(content, found);
      } else if (template === 0) {
        const href = attr('href') ?? attr('xlink:href');
        if (href !== undefined) add(found.scripts, href);
        else found.inlineScripts.push(content);
      }
    } else if (RAW_TEXT.has(tag.name)) {
      const end = tag.name === 'script' ? scriptEnd(html, tag.end) : rawTextEnd(html, tag.name, tag.end);
      const content = html.slice(tag.end, end.contentEnd);
      at = end.next;
      if (tag.name === 'style') {
        found.inlineStyles.push(content);
        cssReferences(content, found);
      } else if (tag.name === 'script') {
        const src = attr('src');
        const type = (attr('type') ?? '').trim().toLowerCase();
        if (!SCRIPT_TYPES.has(type) || template > 0) continue;
        if (src !== undefined) add(found.scripts, src);
        else found.inlineScripts.push(content);
      }
    }
  }
  return found;
}

/** Where a raw text element's content ends (the first `</name` followed by whitespace, `/` or `>`), and where scanning goes on (past that end tag's `>`). */
function rawTextEnd(html: string, name: string, from: number): { contentEnd: number; next: number } {
  const close = new RegExp(`</${name}(?=[\\s/>])`, 'ig');
  close.lastIndex = from;
  const end = close.exec(html);
  if (!end) return { contentEnd: html.length, next: html.length };
  const gt = html.indexOf('>', close.lastIndex);
  return { contentEnd: end.index, next: gt < 0 ? html.length : gt + 1 };
}

/**
 * The same for a <script>, whose text has the HTML parser's escape states: after `<!--`, a
 * `<script` starts a "double-escaped" part in which `</script` does not end the element, until the
 * next `</script` (or `-->`) leaves it.
 */
function scriptEnd(html: string, from: number): { contentEnd: number; next: number } {
  const token = /<!--|-->|<(\/?)script(?=[\s/>])/gi;
  token.lastIndex = from;
  let state: 'data' | 'escaped' | 'double' = 'data';
  for (let m = token.exec(html); m !== null; m = token.exec(html)) {
    const t = m[0].toLowerCase();
    if (t === '<!--') {
      if (state === 'data') state = 'escaped';
    } else if (t === '-->') state = 'data';
    else if (m[1] === '') {
      if (state === 'escaped') state = 'double';
    } else if (state === 'double') state = 'escaped';
    else {
      const gt = html.indexOf('>', token.lastIndex);
      return { contentEnd: m.index, next: gt < 0 ? html.length : gt + 1 };
    }
  }
  return { contentEnd: html.length, next: html.length };
}

const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
const unique = (list: Iterable<string>) => [...new Set(list)];

/** The scripts a theme writes on its own: what it puts in a page whatever the document holds. */
export interface ScriptAllowance {
  inline: Set<string>;
  handlers: Set<string>;
  sources: Set<string>;
}

/** Pure: the scripts of a page (hashes of inline ones and handlers, sources of the others). */
export function scriptsOf(html: string): ScriptAllowance {
  const c = pageContents(html);
  return { inline: new Set(c.inlineScripts.map(hash)), handlers: new Set(c.handlerAttributes.map(hash)), sources: c.scripts };
}

export interface PolicyOptions {
  /** Where web's own files are served from, when not this site. */
  assetOrigin?: string;
  /**
   * The only scripts that may run: the theme's own (what it wrote for web's sample document). A
   * script, handler or script source that the document's text brought in is left out, so a theme
   * that does not escape a field cannot have it run.
   */
  scripts?: ScriptAllowance;
}

/**
 * Pure: the Content-Security-Policy for one rendered page, allowing what its markup contains and
 * nothing more: each inline `<style>` and script by its hash, each `style` and `on…` attribute by its
 * hash ('unsafe-hashes'), and the origins of the stylesheets, scripts, images, fonts and media it
 * references. Never 'unsafe-inline'. The fonts and pictures another site's stylesheet loads cannot be
 * seen from the page, so a page linking one may load those over https.
 */
export function pagePolicy(html: string, options: PolicyOptions = {}): string {
  const c = pageContents(html);
  const own = ["'self'", ...(options.assetOrigin ? [options.assetOrigin] : [])];
  const external = [...c.styles].some((s) => s !== "'self'");
  const allowed = options.scripts;
  const keep = (values: string[], set: Set<string> | undefined) => (set === undefined ? values : values.filter((v) => set.has(v)));
  const attrHashes = unique(c.styleAttributes.map(hash));
  const style = unique([...own, ...c.styles, ...unique(c.inlineStyles.map(hash)), ...(attrHashes.length > 0 ? ["'unsafe-hashes'", ...attrHashes] : [])]);
  const handlerHashes = keep(unique(c.handlerAttributes.map(hash)), allowed?.handlers);
  const script = unique([...keep([...c.scripts], allowed?.sources), ...keep(unique(c.inlineScripts.map(hash)), allowed?.inline), ...(handlerHashes.length > 0 ? ["'unsafe-hashes'", ...handlerHashes] : [])]);
  const directives: [string, string[]][] = [
    ['default-src', ["'none'"]],
    ['style-src', style],
    ['script-src', script.length > 0 ? script : ["'none'"]],
    ['img-src', unique([...own, 'data:', ...c.images, ...(external ? ['https:'] : [])])],
    ['font-src', unique([...own, 'data:', ...c.fonts, ...(external ? ['https:'] : [])])],
    ...(c.media.size > 0 ? [['media-src', unique(c.media)] as [string, string[]]] : []),
    // The page's own files (robots.txt, the document) may be fetched from it, as Lighthouse does.
    ['connect-src', ["'self'"]],
    ['base-uri', ["'none'"]],
    ['form-action', ["'none'"]],
    ['frame-ancestors', ["'none'"]],
  ];
  return directives.map(([name, sources]) => `${name} ${sources.join(' ')}`).join('; ');
}
