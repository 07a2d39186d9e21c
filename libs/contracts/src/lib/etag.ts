/** Pure: the résumé version in a page's ETag (`"v<n>-…"`, `"v<n>"`, weak or strong); null for anything else. */
export function etagVersion(etag: string | null | undefined): number | null {
  const m = /^(?:W\/)?"v(\d{1,15})(?:-[\w-]{1,64})?"$/.exec(etag?.trim() ?? '');
  return m ? Number(m[1]) : null;
}

