import { pageContents, pagePolicy } from '../app/themes/page-policy';
import { withHeadLinks } from '../app/themes/head-links';
import { CspOracle } from './oracle';

const directive = (policy: string, name: string) => policy.split('; ').find((d) => d.startsWith(`${name} `))?.slice(name.length + 1).split(' ') ?? [];
const links = { canonical: 'https://resume.example.org/', icon: '/assets/icon.0123456789.svg' };

describe('attack: withHeadLinks', () => {
  const oracle = new CspOracle();
  beforeAll(() => oracle.start(), 60_000);
  afterAll(() => oracle.stop());

  it('a valid HTML page without <html>/<head> tags (<!doctype html><title>…) stays in standards mode once the links are added', async () => {
    const theme = '<!doctype html><title>Résumé</title><p>Sample Person</p>';
    const html = withHeadLinks(theme, links);
    const shown = await oracle.show('nohead', html);
    // Chromium: 'BackCompat' (quirks mode) when web's <head> lands before the doctype.
    expect([shown.compatMode, html.slice(0, 40)]).toEqual(['CSS1Compat', expect.stringMatching(/^<!doctype html>/)]);
  });

  it('a page whose only <link rel=…> mentioning "canonical" is a font (rel=preload href=/canonical.woff2) still gets its canonical link', () => {
    const theme = '<!doctype html><html><head><link rel=preload href=/fonts/canonical.woff2 as=font crossorigin></head><body>x</body></html>';
    expect(withHeadLinks(theme, links)).toContain('<link rel="canonical" href="https://resume.example.org/">');
  });

  it('a canonical link only inside an HTML comment does not stop web from adding the real one', () => {
    const theme = '<!doctype html><html><head><!-- <link rel="canonical" href="https://old.example/"> --></head><body>x</body></html>';
    expect(withHeadLinks(theme, links)).toContain('<link rel="canonical" href="https://resume.example.org/">');
  });
});

describe('attack: pagePolicy allows only what the page really loads (over-allowing)', () => {
  it('a script in <plaintext> text (never a script to a browser) is not allowed', () => {
    const html = '<!doctype html><html><body><plaintext><script src="https://evil.example/x.js"></script>';
    expect(directive(pagePolicy(html), 'script-src')).toEqual(["'none'"]);
  });

  it('a script src inside <template> (inert) is not allowed to load from that origin up front', () => {
    const html = '<!doctype html><html><body><template><script src="https://evil.example/x.js"></script></template></body></html>';
    expect(directive(pagePolicy(html), 'script-src')).toEqual(["'none'"]);
  });

  it('a stylesheet href starting with a no-break space is a relative URL to a browser, not https://evil.example', () => {
    const html = '<!doctype html><html><head><link rel="stylesheet" href="\u00a0https://evil.example/x.css"></head><body>x</body></html>';
    expect(directive(pagePolicy(html), 'style-src')).not.toContain('https://evil.example');
  });

  it('a non-handler attribute whose name starts with "on" (one=, only=) is not hashed as an event handler', () => {
    const c = pageContents('<!doctype html><html><body><div one="alert(1)" only="x">y</div></body></html>');
    expect(c.handlerAttributes).toEqual([]);
  });
});

/**
 * Linear, not quadratic: inputs that took seconds to minutes with backtracking patterns. The bounds
 * are generous (a loaded machine); the quadratic scan missed them by orders of magnitude.
 */
describe('attack: pagePolicy run time (it runs on the event loop, once per version)', () => {
  const time = (html: string) => {
    const started = process.hrtime.bigint();
    pagePolicy(html);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };

  it('a 30 KB style attribute "url(" + spaces (document text a theme puts in style=…) is scanned within 3 s', () => {
    expect(time(`<!doctype html><html style="--c:url(${' '.repeat(30_000)};"><body>x</body></html>`)).toBeLessThan(3000);
  });

  it('a 600 KB inline style of unclosed "@font-face{", and of "url(" without ")", is scanned within 3 s', () => {
    expect(time(`<!doctype html><html><head><style>${'@font-face{'.repeat(60_000)}</style></head><body>x</body></html>`)).toBeLessThan(3000);
    expect(time(`<!doctype html><html><head><style>${'a{b:url( '.repeat(60_000)}</style></head><body>x</body></html>`)).toBeLessThan(3000);
  });

  it('a 5 MB ordinary page is scanned within 10 s', () => {
    expect(time(`<!doctype html><html><head><style>p{}</style></head><body>${'<p class="x" style="color:red">Hello <b>world</b> and text</p>\n'.repeat(80_000)}</body></html>`)).toBeLessThan(10_000);
  });
});
