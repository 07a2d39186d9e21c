import { escapeHtml } from '../page/page.renderer';

/** The links web adds to a page's head: where the page lives, and its icon. */
export interface HeadLinks {
  /** The page's public URL (PUBLIC_URL), for `<link rel="canonical">`. */
  canonical?: string;
  /** The icon's URL, for `<link rel="icon">`. */
  icon: string;
}

/**
 * Pure: a theme's page with `<link rel="canonical">` and `<link rel="icon">` added at the end of its
 * head, each only when the page has none of its own (a page without a head gets them first in its
 * body's place: browsers read links anywhere before the content).
 */
export function withHeadLinks(html: string, links: HeadLinks): string {
  const has = (rel: string) => new RegExp(`<link\\b[^>]*\\brel\\s*=\\s*["']?[^"'>]*\\b${rel}\\b`, 'i').test(html);
  const add: string[] = [];
  if (links.canonical !== undefined && !has('canonical')) add.push(`<link rel="canonical" href="${escapeHtml(links.canonical)}">`);
  if (!has('icon')) add.push(`<link rel="icon" href="${escapeHtml(links.icon)}" type="image/svg+xml">`);
  if (add.length === 0) return html;
  const close = /<\/head\s*>/i.exec(html);
  if (close) return `${html.slice(0, close.index)}${add.join('')}${html.slice(close.index)}`;
  const open = /<html\b[^>]*>/i.exec(html);
  const at = open ? open.index + open[0].length : 0;
  return `${html.slice(0, at)}<head>${add.join('')}</head>${html.slice(at)}`;
}
