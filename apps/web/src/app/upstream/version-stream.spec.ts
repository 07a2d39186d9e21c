import { FakeApi } from '../../test/fake-api';
import { within } from '../../test/bundles';
import { StreamListener, StreamState, VersionStream } from './version-stream';

/** Records what a stream tells its listener. */
class Recorder implements StreamListener {
  versions: number[] = [];
  states: StreamState[] = [];
  version(_from: string, version: number): void {
    this.versions.push(version);
  }
  alive(): void {
    /* nothing to record */
  }
  changed(_from: string, state: StreamState): void {
    this.states.push(state);
  }
}

describe('a version stream', () => {
  const api = new FakeApi();
  let stream: VersionStream | undefined;
  beforeEach(async () => {
    await api.start();
    api.publish({ basics: { name: 'Stream' } });
  });
  afterEach(async () => {
    stream?.close();
    await api.stop();
    api.closeStreamsAtOnce = false;
    api.streamRetryMs = 1000;
  });
  const subscribe = (recorder: Recorder, stableMs = 5000) => {
    stream = new VersionStream(api.url, recorder, { idleMs: 20_000, maxBackoffMs: 10_000, stableMs });
    stream.start();
    return stream;
  };

  it('a line too long, even a whole one, drops the stream with the reason', async () => {
    const recorder = new Recorder();
    const s = subscribe(recorder);
    await within(2000, 'the stream to open', () => s.state === 'open');
    // 50 KB: a whole line, under the old 64 KiB limit for an unfinished one, and far over what a version event needs.
    api.writeStreams('event: version\ndata: ' + 'z'.repeat(50_000) + '\n\n');
    await within(2000, 'the stream to be dropped', () => s.state === 'waiting');
    expect(s.lastError).toBe('a line of the event stream is longer than 4096 characters');
    expect(recorder.versions).toEqual([api.version]);
  });

  it('an event that keeps growing (data lines and no blank line) drops the stream instead of filling memory', async () => {
    const recorder = new Recorder();
    const s = subscribe(recorder);
    await within(2000, 'the stream to open', () => s.state === 'open');
    for (let i = 0; i < 20; i++) api.writeStreams('data: ' + 'x'.repeat(60_000) + '\n');
    await within(2000, 'the stream to be dropped', () => s.state === 'waiting');
    expect(s.lastError).toBe('a line of the event stream is longer than 4096 characters');
    await within(5000, 'the stream to open again', () => s.state === 'open');
    for (let i = 0; i < 20; i++) api.writeStreams('data: ' + 'x'.repeat(1000) + '\n');
    await within(2000, 'the stream to be dropped', () => s.state === 'waiting');
    expect(s.lastError).toBe('an event of the event stream holds more than 4096 characters');
  });

  it('an api that opens the stream and closes it at once is not asked again and again: the wait keeps growing', async () => {
    api.closeStreamsAtOnce = true;
    api.streamRetryMs = 100;
    const recorder = new Recorder();
    const before = api.streamsOpened;
    subscribe(recorder);
    await new Promise((r) => setTimeout(r, 2000));
    // Waits of 100, 200, 400, 800 ms (less up to half at random): at most 6 connections in 2 s,
    // where a backoff started again by every open makes 20 to 40.
    const opened = api.streamsOpened - before;
    expect(opened).toBeGreaterThanOrEqual(3);
    expect(opened).toBeLessThanOrEqual(6);
  });

  it('a connection that stayed open a while starts the backoff again', async () => {
    api.streamRetryMs = 100;
    const recorder = new Recorder();
    const s = subscribe(recorder, 300);
    for (let i = 0; i < 4; i++) {
      await within(2000, 'the stream to open', () => s.state === 'open');
      await new Promise((r) => setTimeout(r, 350));
      const dropped = Date.now();
      api.dropStreams();
      await within(2000, 'the stream to be dropped', () => s.state === 'waiting');
      // The first wait again (100 ms less up to half), not a doubled one.
      expect((s.nextAttemptAt ?? 0) - dropped).toBeLessThanOrEqual(150);
    }
  });
});
