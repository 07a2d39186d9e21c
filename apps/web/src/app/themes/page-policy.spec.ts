import { createHash } from 'node:crypto';
import { pageContents, pagePolicy, sourceOf } from './page-policy';
import { withHeadLinks } from './head-links';

const sha = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
const directive = (policy: string, name: string) => policy.split('; ').find((d) => d.startsWith(`${name} `))?.slice(name.length + 1).split(' ');

describe('sourceOf', () => {
  it.each([
    ['https://fonts.googleapis.com/css?family=Lato', 'https://fonts.googleapis.com'],
    ['HTTP://Cdn.Example:8080/x.css', 'http://cdn.example:8080'],
    ['//cdnjs.cloudflare.com/ajax/x.css', 'cdnjs.cloudflare.com'],
    ['/assets/site.css', "'self'"],
    ['override.css', "'self'"],
    ['data:image/png;base64,AAAA', 'data:'],
    ['javascript:alert(1)', undefined],
    ['ftp://x.example/a', undefined],
    ['//bad host/x', undefined],
    ['', undefined],
  ])('%j → %s', (url, source) => expect(sourceOf(url)).toBe(source));
});

describe('pageContents', () => {
  it('finds inline styles and scripts exactly as written, and not data blocks, comments or text', () => {
    const html = `<!doctype html><html style=""><head>
<style>body{color:red}</style><STYLE media="print">p{margin:0}</STYLE>
<script type="module">customElements.define('x-y', class extends HTMLElement {})</script>
<script type="application/ld+json">{"@type":"Person"}</script>
<!-- <style>not{this:one}</style> -->
<title>&lt;style&gt;no&lt;/style&gt;</title>
<textarea><script>not a script</script></textarea>
</head><body><p style="font-weight: bold" onclick="go()">x</p><p STYLE='a:&quot;b&quot;'>y</p></body></html>`;
    const c = pageContents(html);
    expect(c.inlineStyles).toEqual(['body{color:red}', 'p{margin:0}']);
    expect(c.inlineScripts).toEqual(["customElements.define('x-y', class extends HTMLElement {})"]);
    expect(c.styleAttributes).toEqual(['', 'font-weight: bold', 'a:"b"']);
    expect(c.handlerAttributes).toEqual(['go()']);
  });

  it('finds the sources of stylesheets, scripts, images and fonts, in markup and in CSS', () => {
    const html = `<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap.css"><link rel="preconnect" href="https://fonts.gstatic.com">
<link rel="icon" href="https://icons.example/i.png"><link rel="preload" as="font" href="/f.woff2">
<script src="//ajax.googleapis.com/jquery.js"></script>
<style>@import url(https://fonts.googleapis.com/css?family=Lato);@import "/more.css";@import url(
	https://flat.example/css
);
@font-face{font-family:x;src:url('https://fonts.gstatic.com/x.woff2') format('woff2')}
.a{background:url(https://images.example/bg.png)}</style>
<img src="//www.gravatar.com/avatar/1" srcset="https://a.example/1.png 1x, /2.png 2x"><div style="background-image:url(data:image/gif;base64,R0lG)"></div>`;
    const c = pageContents(html);
    expect([...c.styles].sort()).toEqual(["'self'", 'https://flat.example', 'https://fonts.googleapis.com', 'https://maxcdn.bootstrapcdn.com']);
    expect([...c.scripts]).toEqual(['ajax.googleapis.com']);
    expect([...c.fonts].sort()).toEqual(["'self'", 'https://fonts.gstatic.com']);
    expect([...c.images].sort()).toEqual(['data:', 'https://a.example', 'https://icons.example', 'https://images.example', "'self'", 'www.gravatar.com'].sort());
  });

  it('reads attributes as a browser does: values holding ">", unquoted values holding quotes', () => {
    const c = pageContents(`<p title="a > b" style="color:blue">x</p><p class=a"b style="margin:0">y</p><p "odd style="border:0">w</p><p style=padding:0>z</p>`);
    expect(c.styleAttributes).toEqual(['color:blue', 'margin:0', 'border:0', 'padding:0']);
  });
});

describe('pagePolicy', () => {
  it('allows each inline block and attribute by its hash, and the origins referenced, never unsafe-inline', () => {
    const html = `<html style=""><head><style>a{}</style><link rel="stylesheet" href="https://fonts.googleapis.com/css"><script type="module">x()</script></head><body><b style="color:red" onclick="y()">b</b></body></html>`;
    const policy = pagePolicy(html, { assetOrigin: 'https://cdn.example' });
    expect(policy).not.toContain('unsafe-inline');
    expect(directive(policy, 'default-src')).toEqual(["'none'"]);
    expect(directive(policy, 'style-src')).toEqual(["'self'", 'https://cdn.example', 'https://fonts.googleapis.com', sha('a{}'), "'unsafe-hashes'", sha(''), sha('color:red')]);
    expect(directive(policy, 'script-src')).toEqual([sha('x()'), "'unsafe-hashes'", sha('y()')]);
    // The fonts a stylesheet from another site loads cannot be seen from the page.
    expect(directive(policy, 'font-src')).toEqual(["'self'", 'https://cdn.example', 'data:', 'https:']);
    expect(directive(policy, 'connect-src')).toEqual(["'self'"]);
    expect(directive(policy, 'frame-ancestors')).toEqual(["'none'"]);
  });

  it('runs no script at all on a page without one, and allows no https fonts without another site’s stylesheet', () => {
    const policy = pagePolicy('<html><head><style>p{}</style></head><body>x</body></html>');
    expect(directive(policy, 'script-src')).toEqual(["'none'"]);
    expect(directive(policy, 'font-src')).toEqual(["'self'", 'data:']);
    expect(directive(policy, 'style-src')).toEqual(["'self'", sha('p{}')]);
  });
});

describe('withHeadLinks', () => {
  it('adds the canonical and icon links at the end of the head, only where the page has none', () => {
    const page = '<html><head><title>t</title></HEAD><body></body></html>';
    expect(withHeadLinks(page, { canonical: 'https://r.example/?a=1&b="2"', icon: '/i.svg' })).toBe(
      '<html><head><title>t</title><link rel="canonical" href="https://r.example/?a=1&#38;b=&#34;2&#34;"><link rel="icon" href="/i.svg" type="image/svg+xml"></HEAD><body></body></html>',
    );
    const own = '<head><link rel="shortcut icon" href="/x.ico"><link href="/c" rel=canonical></head>';
    expect(withHeadLinks(own, { canonical: 'https://r.example/', icon: '/i.svg' })).toBe(own);
    expect(withHeadLinks('<html lang="en"><body>x</body></html>', { icon: '/i.svg' })).toBe('<html lang="en"><head><link rel="icon" href="/i.svg" type="image/svg+xml"></head><body>x</body></html>');
  });
});
