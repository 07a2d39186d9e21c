/** The framing of `GET /api/v1/versions` (server-sent events), one function per kind of message. */
export const RETRY_FRAME = 'retry: 1000\n\n';
export const KEEP_ALIVE_FRAME = ': keep-alive\n\n';
export const versionFrame = (version: number): string => `event: version\ndata: ${JSON.stringify({ version })}\n\n`;
