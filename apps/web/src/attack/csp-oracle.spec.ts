import { CspOracle } from './oracle';

/**
 * Claim under attack (README "Themes", page-policy.ts): the CSP of a theme page is computed from its
 * HTML so that the page "shows with zero CSP violations in Chromium". Each page below is markup a
 * theme can plausibly emit; Chromium, under the computed policy, is the oracle.
 */
describe('attack: pagePolicy vs a real Chromium', () => {
  const oracle = new CspOracle();
  beforeAll(() => oracle.start(), 60_000);
  afterAll(() => oracle.stop());

  const page = (head: string, body = '<p>x</p>') => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>${head}</head><body>${body}</body></html>`;

  it('control: an ordinary page with inline style, script, style attribute and handler shows without a violation', async () => {
    const seen = await oracle.show('control', page('<style>p{color:red}</style><script>document.title="ok"</script>', '<p style="margin:0" onclick="x()">x</p>'));
    expect(seen.violations).toEqual([]);
    expect(seen.title).toBe('ok');
  });

  // --- inline content the scanner hashes differently from the browser ---
  const inline: [string, () => string][] = [
    ['CRLF line endings in an inline <style> (a template saved on Windows)', () => page('<style>\r\np{color:red}\r\n</style>')],
    ['CRLF line endings in an inline <script>', () => page('<script>\r\ndocument.title="ok"\r\n</script>')],
    ['CRLF inside a style attribute', () => page('', '<p style="color:red;\r\nmargin:0">x</p>')],
    ['an inline <style> in an inline SVG icon, with CDATA (as SVG editors export it)', () => page('', '<svg width="10" height="10"><style><![CDATA[ .a{fill:red} ]]></style><rect class="a" width="10" height="10"/></svg>')],
    ['an inline <style> in an inline SVG, with a character reference', () => page('', '<svg width="10" height="10"><style>svg &gt; rect{fill:red}</style><rect width="10" height="10"/></svg>')],
    ['a style attribute with a named character reference (&semi;)', () => page('', '<p style="color:red&semi;margin:0">x</p>')],
    ['a style attribute with a numeric reference without its semicolon (&#59)', () => page('', '<p style="color:red&#59 margin:0">x</p>')],
    ['a script closed by "</script foo>" (an end tag with an attribute)', () => page('<script>document.title="ok"</script foo><style>p{color:red}</style>')],
    ['a <style> closed by "</style/>"', () => page('<style>p{color:red}</style/><style>b{color:blue}</style>')],
    ['an old-style script in <!-- --> that writes a <script> tag (double-escaped script data)', () => page('<script><!--\ndocument.title = "<script>x</script>";\n--></script>')],
    ['the empty comment <!--> before a style', () => page('<!--><style>p{color:red}</style><!-- a comment -->')],
    ['an attribute after a stray "=" (<p =x style=…>)', () => page('', '<p =x style="color:red">x</p>')],
    ['an inline import map (an ES module theme)', () => page('<script type="importmap">{"imports":{"a":"/a.js"}}</script>')],
    ['an inline script of type application/x-javascript (a JavaScript MIME type)', () => page('<script type="application/x-javascript">document.title="ok"</script>')],
    ['an inline script of type text/jscript', () => page('<script type="text/jscript">document.title="ok"</script>')],
    ['an inline speculation-rules script', () => page('<script type="speculationrules">{"prefetch":[{"source":"list","urls":["/next"]}]}</script>')],
  ];
  it.each(inline)('%s: no violation', async (_what, html) => {
    const name = `inline-${inline.findIndex(([w]) => w === _what)}`;
    expect((await oracle.show(name, html())).violations).toEqual([]);
  });

  // --- external files the scanner does not see, or sees from the wrong origin ---
  const external: [string, (o: string) => string][] = [
    ['<link rel=preload as=style>', (o) => page(`<link rel="preload" as="style" href="${o}/p.css">`)],
    ['<link rel=preload as=script>', (o) => page(`<link rel="preload" as="script" href="${o}/p.js">`)],
    ['<link rel=modulepreload>', (o) => page(`<link rel="modulepreload" href="${o}/m.js">`)],
    ['<link rel=preload as=image>', (o) => page(`<link rel="preload" as="image" href="${o}/p.png">`)],
    ['<link rel=preload as=FONT> (enumerated values are case-insensitive)', (o) => page(`<link rel="preload" as="FONT" href="${o}/f.woff2" crossorigin>`)],
    ['an SVG <image href>', (o) => page('', `<svg width="10" height="10"><image href="${o}/i.png" width="10" height="10"/></svg>`)],
    ['<input type=image src>', (o) => page('', `<input type="image" src="${o}/b.png" alt="go">`)],
    ['<body background>', (o) => `<!doctype html><html><head><title>t</title></head><body background="${o}/bg.png">x</body></html>`],
    ['<video poster>', (o) => page('', `<video poster="${o}/poster.png"></video>`)],
    ['a CSS url() written with a CSS escape (\\68 ttp…)', (o) => page(`<style>body{background:url(\\68 ${o.slice(1)}/e.png)}</style>`)],
    ['CSS image-set("…")', (o) => page(`<style>body{background-image:image-set("${o}/s.png" 1x)}</style>`)],
    ['a stylesheet href with a backslash (/\\host/…: scheme-relative to a browser)', (o) => page(`<link rel="stylesheet" href="/\\${o.replace('http://', '')}/b.css">`)],
    ['a stylesheet href with a newline inside the scheme', (o) => page(`<link rel="stylesheet" href="ht\ntp${o.slice(4)}/n.css">`)],
    ['a stylesheet after a tag with a > inside an unquoted-looking quoted value', (o) => page(`<meta name=x content="a'b"><link rel="stylesheet" href="${o}/q.css">`)],
  ];
  it.each(external)('%s: no violation', async (_what, html) => {
    const name = `ext-${external.findIndex(([w]) => w === _what)}`;
    expect((await oracle.show(name, html(oracle.other))).violations).toEqual([]);
  });

  it('a page of more than 200,000 tags (a big résumé) still gets its last inline style hashed', async () => {
    const html = page('', `${'<b>x</b>'.repeat(110_000)}<style>p{color:red}</style>`);
    expect((await oracle.show('big', html, 200)).violations).toEqual([]);
  }, 60_000);
});
