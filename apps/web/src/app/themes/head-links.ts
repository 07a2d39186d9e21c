import { escapeHtml } from '../page/page.renderer';
import { pageContents } from './page-policy';

/** The links web adds to a page's head: where the page lives, and its icon. */
export interface HeadLinks {
  /** The page's public URL (PUBLIC_URL), for `<link rel="canonical">`. */
  canonical?: string;
  /** The icon's URL, for `<link rel="icon">`. */
  icon: string;
}

/**
 * Pure: a theme's page with `<link rel="canonical">` and `<link rel="icon">` added at the end of its
 * head, each only when the page has no link of that kind of its own (links in comments do not count).
 * A page without `</head>` gets a head of its own, after the doctype and the `<html>` tag if it has them.
 */
export function withHeadLinks(html: string, links: HeadLinks): string {
  const rels = pageContents(html).linkRels;
  const add: string[] = [];
  if (links.canonical !== undefined && !rels.has('canonical')) add.push(`<link rel="canonical" href="${escapeHtml(links.canonical)}">`);
  if (!rels.has('icon')) add.push(`<link rel="icon" href="${escapeHtml(links.icon)}" type="image/svg+xml">`);
  if (add.length === 0) return html;
  const close = /<\/head\s*>/i.exec(html);
  if (close) return `${html.slice(0, close.index)}${add.join('')}${html.slice(close.index)}`;
  const opening = /^\s*(?:<!doctype[^>]*>\s*)?(?:<html\b[^>]*>)?/i.exec(html);
  const at = opening ? opening[0].length : 0;
  return `${html.slice(0, at)}<head>${add.join('')}</head>${html.slice(at)}`;
}
