import { backoffDelay, nextAttempt, SseParser, versionOfEvent } from './sse';

describe('the event-stream framing', () => {
  it('reads events, retry and comments, in whatever pieces they arrive, with LF, CRLF or CR line ends', () => {
    const stream = 'retry: 1000\n\n: keep-alive\n\nevent: version\ndata: {"version":3}\n\nevent: version\r\ndata: {"version":4}\r\n\r\nevent: version\rdata: {"version":5}\r\r';
    const expected = [
      { kind: 'retry', ms: 1000 },
      { kind: 'comment' },
      { kind: 'event', event: 'version', data: '{"version":3}' },
      { kind: 'event', event: 'version', data: '{"version":4}' },
      { kind: 'event', event: 'version', data: '{"version":5}' },
    ];
    expect(new SseParser().push(stream)).toEqual(expected);
    for (const size of [1, 2, 3, 7]) {
      const parser = new SseParser();
      const got = [];
      for (let i = 0; i < stream.length; i += size) got.push(...parser.push(stream.slice(i, i + size)));
      expect([size, got]).toEqual([size, expected]);
    }
  });

  it('joins data lines, defaults the event name, ignores unknown fields and holds an event until its blank line', () => {
    const parser = new SseParser();
    expect(parser.push('id: 7\ndata: a\ndata:b\nfoo: bar\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ kind: 'event', event: 'message', data: 'a\nb' }]);
    expect(parser.push('event: version\n\n')).toEqual([]);
    expect(parser.push('retry: soon\n\n')).toEqual([]);
  });

  it('refuses a line longer than 4 KiB instead of buffering it, finished or not', () => {
    expect(() => new SseParser().push('data: ' + 'x'.repeat(70_000))).toThrow(/^a line of the event stream is longer than 4096 characters$/);
    // A whole line with its line end, in one piece, is no different.
    expect(() => new SseParser().push('data: ' + 'z'.repeat(200_000) + '\n\n')).toThrow(/^a line of the event stream is longer than 4096 characters$/);
    expect(() => new SseParser().push(': ' + 'c'.repeat(5000) + '\r\n')).toThrow(/longer than 4096 characters/);
    const fits = 'data: ' + 'x'.repeat(4090);
    expect(new SseParser().push(fits + '\n\n')).toEqual([{ kind: 'event', event: 'message', data: 'x'.repeat(4090) }]);
  });

  it('refuses an event that holds more than 4 KiB before its blank line, however it is split into lines', () => {
    const parser = new SseParser();
    let sent = 0;
    expect(() => {
      for (let i = 0; i < 1000; i++, sent++) parser.push('data: ' + 'x'.repeat(1000) + '\n');
    }).toThrow(/^an event of the event stream holds more than 4096 characters$/);
    expect(sent).toBe(4);
    // Event names count too; a blank line starts the count again.
    expect(() => new SseParser().push(`event: ${'e'.repeat(3000)}\ndata: ${'d'.repeat(1200)}\n`)).toThrow(/holds more than 4096/);
    const again = new SseParser();
    for (let i = 0; i < 10; i++) expect(again.push(`data: ${'d'.repeat(2000)}\ndata: ${'d'.repeat(2000)}\n\n`)).toHaveLength(1);
  });

  it('takes the version of a version event, and nothing else', () => {
    expect(versionOfEvent('{"version":12}')).toBe(12);
    expect(versionOfEvent('{"version":0}')).toBe(0);
    for (const bad of ['', 'v12', '{"version":"12"}', '{"version":-1}', '{"version":1.5}', 'null', '[12]']) expect([bad, versionOfEvent(bad)]).toEqual([bad, undefined]);
  });

  it('takes no version an ETag could not carry (more than 15 digits)', () => {
    expect(versionOfEvent('{"version":999999999999999}')).toBe(999_999_999_999_999);
    for (const big of ['{"version":1000000000000000}', '{"version":9007199254740991}', '{"version":1e300}']) expect([big, versionOfEvent(big)]).toEqual([big, undefined]);
  });

  it('starts the backoff again only after a connection that stayed open a while, not after any open', () => {
    expect(nextAttempt(3, 5000, 5000)).toBe(0);
    expect(nextAttempt(3, 4999, 5000)).toBe(3);
    expect(nextAttempt(3, 0, 5000)).toBe(3);
    expect(nextAttempt(3, undefined, 5000)).toBe(3);
    // An api that opens the stream and closes it at once: the waits keep doubling.
    let attempt = 0;
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const next = nextAttempt(attempt, 5, 5000);
      waits.push(backoffDelay(next, 100, 10_000, () => 0));
      attempt = next + 1;
    }
    expect(waits).toEqual([100, 200, 400, 800, 1600, 3200]);
  });

  it('backs off from the base delay, doubling up to the limit, less up to half at random', () => {
    expect([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, 1000, 10_000, () => 0))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(backoffDelay(0, 1000, 10_000, () => 1)).toBe(500);
    expect(backoffDelay(5000, 1000, 10_000, () => 0)).toBe(10_000);
  });
});
