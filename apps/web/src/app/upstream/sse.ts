/** One unit of a server-sent event stream, as the parser reads it. */
export type SseMessage = { kind: 'event'; event: string; data: string } | { kind: 'retry'; ms: number } | { kind: 'comment' };

const MAX_LINE = 64 * 1024;

/**
 * Reads a `text/event-stream` (the WHATWG framing): lines end with LF, CRLF or CR; `event:` and
 * `data:` fields collect until a blank line dispatches them; `retry:` sets the reconnection delay;
 * lines starting with `:` are comments (keep-alives). Fed text as it arrives, in any pieces.
 */
export class SseParser {
  private rest = '';
  private skipLf = false;
  private event = '';
  private data: string[] = [];

  push(chunk: string): SseMessage[] {
    if (chunk === '') return [];
    // A CR ends a line at once; an LF right after it (the rest of a CRLF) is then skipped.
    const piece = this.skipLf && chunk.startsWith('\n') ? chunk.slice(1) : chunk;
    const text = this.rest + piece;
    this.skipLf = text.endsWith('\r');
    const lines = text.split(/\r\n|\r|\n/);
    this.rest = lines.pop() ?? '';
    if (this.rest.length > MAX_LINE) throw new Error(`a line of the event stream is longer than ${MAX_LINE} characters`);
    const out: SseMessage[] = [];
    for (const line of lines) {
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') {
      const dispatched = this.data.length > 0 ? { kind: 'event' as const, event: this.event || 'message', data: this.data.join('\n') } : undefined;
      this.event = '';
      this.data = [];
      return dispatched;
    }
    if (line.startsWith(':')) return { kind: 'comment' };
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'retry' && /^\d+$/.test(value)) return { kind: 'retry', ms: Number(value) };
    return undefined;
  }
}

/** The version of a `version` event's data, `{"version":N}`; undefined when it is anything else. */
export function versionOfEvent(data: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(data);
    const version = typeof parsed === 'object' && parsed !== null ? (parsed as { version?: unknown }).version : undefined;
    return typeof version === 'number' && Number.isSafeInteger(version) && version >= 0 ? version : undefined;
  } catch {
    return undefined;
  }
}

/** Delay before reconnection attempt `attempt` (0-based): `baseMs` doubled each time, at most `maxMs`, less up to half at random. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling * (1 - random() / 2));
}
