/** The document version named by an api's ETag `"v<n>"`; undefined for any other value. */
export function versionOf(etag: string | null | undefined): number | undefined {
  const match = etag ? /^"v(\d{1,15})"$/.exec(etag) : null;
  return match ? Number(match[1]) : undefined;
}
