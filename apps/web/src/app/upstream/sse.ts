import { isVersion } from '../resume/version';

/** One unit of a server-sent event stream, as the parser reads it. */
export type SseMessage = { kind: 'event'; event: string; data: string } | { kind: 'retry'; ms: number } | { kind: 'comment' };

export interface SseLimits {
  /** The longest line, finished or not (characters). */
  maxLine: number;
  /** The most an event may hold before its blank line: its name and data lines together (characters). */
  maxEvent: number;
}

/** A version event is `event: version` and `data: {"version":N}`: a few dozen characters. */
export const SSE_LIMITS: SseLimits = { maxLine: 4096, maxEvent: 4096 };

/**
 * Reads a `text/event-stream` (the WHATWG framing): lines end with LF, CRLF or CR; `event:` and
 * `data:` fields collect until a blank line dispatches them; `retry:` sets the reconnection delay;
 * lines starting with `:` are comments (keep-alives). Fed text as it arrives, in any pieces.
 * What it holds is bounded: a line (finished or not) longer than `maxLine`, or an event growing
 * past `maxEvent` before its blank line, throws, and the stream should be dropped.
 */
export class SseParser {
  private rest = '';
  private skipLf = false;
  private event = '';
  private data: string[] = [];
  /** Characters the pending event holds: its name, its data lines and the newlines joining them. */
  private size = 0;

  constructor(private readonly limits: SseLimits = SSE_LIMITS) {}

  push(chunk: string): SseMessage[] {
    if (chunk === '') return [];
    // A CR ends a line at once; an LF right after it (the rest of a CRLF) is then skipped.
    const piece = this.skipLf && chunk.startsWith('\n') ? chunk.slice(1) : chunk;
    const text = this.rest + piece;
    this.skipLf = text.endsWith('\r');
    const lines = text.split(/\r\n|\r|\n/);
    this.rest = lines.pop() ?? '';
    if (this.rest.length > this.limits.maxLine) throw this.tooLong();
    const out: SseMessage[] = [];
    for (const line of lines) {
      if (line.length > this.limits.maxLine) throw this.tooLong();
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
      this.size = 0;
      return dispatched;
    }
    if (line.startsWith(':')) return { kind: 'comment' };
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') this.hold(value.length - this.event.length, () => (this.event = value));
    else if (field === 'data') this.hold(value.length + (this.data.length > 0 ? 1 : 0), () => this.data.push(value));
    else if (field === 'retry' && /^\d+$/.test(value)) return { kind: 'retry', ms: Number(value) };
    return undefined;
  }

  /** Adds `grow` characters to the pending event, unless that takes it past `maxEvent`. */
  private hold(grow: number, keep: () => void): void {
    if (this.size + grow > this.limits.maxEvent) throw new Error(`an event of the event stream holds more than ${this.limits.maxEvent} characters`);
    this.size += grow;
    keep();
  }

  private tooLong(): Error {
    return new Error(`a line of the event stream is longer than ${this.limits.maxLine} characters`);
  }
}

/**
 * The version of a `version` event's data, `{"version":N}`; undefined when it is anything else,
 * including a number no `"v<n>"` ETag can carry (above MAX_VERSION): no api could serve it.
 */
export function versionOfEvent(data: string): number | undefined {
  try {
    const parsed: unknown = JSON.parse(data);
    const version = typeof parsed === 'object' && parsed !== null ? (parsed as { version?: unknown }).version : undefined;
    return isVersion(version) ? version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Which reconnection attempt follows a drop (its number sets the delay, see backoffDelay): the
 * first (0) when the connection that dropped had stayed open `stableMs` or longer, else `attempt`,
 * the count of attempts since the last such connection. `openForMs` is undefined when the
 * connection never opened. A successful open alone does not start the backoff again.
 */
export function nextAttempt(attempt: number, openForMs: number | undefined, stableMs: number): number {
  return openForMs !== undefined && openForMs >= stableMs ? 0 : attempt;
}

/** Delay before reconnection attempt `attempt` (0-based): `baseMs` doubled each time, at most `maxMs`, less up to half at random. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling * (1 - random() / 2));
}
