import type { JsonResume, ResumeLocation } from '@vita/contracts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `2021`, `Mar 2021` or `5 Mar 2021` from a JSON Resume partial date; anything else as given. */
export function formatDate(value: string | undefined): string {
  if (!value) return '';
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(value);
  if (!m) return value;
  const month = m[2] ? MONTHS[Number(m[2]) - 1] : undefined;
  if (!month) return m[1];
  return m[3] ? `${Number(m[3])} ${month} ${m[1]}` : `${month} ${m[1]}`;
}

/** `Mar 2021 – Present`, `2016 – 2021`, or a single date. */
export function dateRange(start?: string, end?: string): string {
  if (!start && !end) return '';
  if (!start) return formatDate(end);
  return `${formatDate(start)} – ${end ? formatDate(end) : 'Present'}`;
}

/** Only links a browser follows safely: http(s), mailto and tel. `javascript:` and friends render as text. */
export function safeHref(url: string | undefined): string | undefined {
  if (!url) return undefined;
  return /^(https?:\/\/|mailto:|tel:)/i.test(url.trim()) ? url.trim() : undefined;
}

export function formatLocation(l: ResumeLocation | undefined): string {
  if (!l) return '';
  return [l.address, l.city, l.region, l.postalCode, l.countryCode].filter((p): p is string => typeof p === 'string' && p !== '').join(', ');
}

/** schema.org/Person from the résumé, for the page's JSON-LD. */
export function personJsonLd(doc: JsonResume, pictureUrl?: string): Record<string, unknown> {
  const b = doc.basics ?? {};
  const current = (doc.work ?? []).find((w) => w.name && !w.endDate);
  const loc = b.location;
  const clean = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0)));
  return clean({
    '@context': 'https://schema.org',
    '@type': 'Person',
    name: b.name,
    jobTitle: b.label,
    description: b.summary,
    email: b.email ? `mailto:${b.email}` : undefined,
    telephone: b.phone,
    url: b.url,
    image: pictureUrl,
    address: loc
      ? clean({ '@type': 'PostalAddress', streetAddress: loc.address, postalCode: loc.postalCode, addressLocality: loc.city, addressRegion: loc.region, addressCountry: loc.countryCode })
      : undefined,
    sameAs: (b.profiles ?? []).map((p) => p.url).filter((u): u is string => !!u),
    worksFor: current ? { '@type': 'Organization', name: current.name } : undefined,
    alumniOf: (doc.education ?? []).filter((e) => e.institution).map((e) => ({ '@type': 'EducationalOrganization', name: e.institution })),
    knowsAbout: (doc.skills ?? []).map((s) => s.name).filter((n): n is string => !!n),
    knowsLanguage: (doc.languages ?? []).map((l) => l.language).filter((n): n is string => !!n),
  });
}

/** JSON for a `<script type="application/ld+json">` block: `<` escaped so the text cannot close the element. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

/** True when the section exists and has something to show. */
export function hasItems(value: unknown): boolean {
  return Array.isArray(value) && value.length > 0;
}
