import { Silence, silence } from './upstream';

describe('upstream: the response timeout is the backend’s silence', () => {
  it('waits while the backend has read or written within responseMs', () => {
    expect(silence(10_999, 10_000, 1000, false, true)).toBe(Silence.Fine);
    expect(silence(10_000, 10_000, 1000, false, false)).toBe(Silence.Fine);
  });

  it('fails the request in progress after responseMs of silence', () => {
    expect(silence(11_000, 10_000, 1000, false, true)).toBe(Silence.TimedOut);
    expect(silence(60_000, 10_000, 1000, false, true)).toBe(Silence.TimedOut);
  });

  it('closes an idle pooled connection after responseMs of silence', () => {
    expect(silence(11_000, 10_000, 1000, false, false)).toBe(Silence.CloseIdle);
  });

  it('never counts the time a connection is held back for a slow client', () => {
    expect(silence(60_000, 10_000, 1000, true, true)).toBe(Silence.Fine);
  });
});
