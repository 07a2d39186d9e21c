/** The largest version an ETag `"v<n>"` can carry: n has at most 15 digits (always a safe integer). */
export const MAX_VERSION = 999_999_999_999_999;

/**
 * The document version named by an api's ETag: `"v<n>"`, or the weak `W/"v<n>"` that a compressing
 * proxy makes of it (web only reads the version from it); undefined for any other value.
 */
export function versionOf(etag: string | null | undefined): number | undefined {
  const match = etag ? /^(?:W\/)?"v(\d{1,15})"$/.exec(etag) : null;
  return match ? Number(match[1]) : undefined;
}

/** True for a number an ETag can carry as a version: an integer from 0 to MAX_VERSION. */
export function isVersion(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_VERSION;
}
