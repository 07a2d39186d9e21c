import { chooseFresh, FreshState } from './fresh';

const at = (over: Partial<FreshState>): FreshState => ({ now: 10_000, windowMs: 1000, latestStartedAt: null, runningStartedAt: null, queued: false, ...over });

describe('fresh reads of the topology', () => {
  it('answers from the newest check when it started within the window', () => {
    expect(chooseFresh(at({ latestStartedAt: 9_500 }))).toBe('recent');
    expect(chooseFresh(at({ latestStartedAt: 9_000 }))).toBe('recent');
    expect(chooseFresh(at({ latestStartedAt: 9_500, runningStartedAt: 9_900 }))).toBe('recent');
  });

  it('joins the check in progress when it started within the window', () => {
    expect(chooseFresh(at({ latestStartedAt: 5_000, runningStartedAt: 9_800 }))).toBe('joined');
    expect(chooseFresh(at({ runningStartedAt: 9_001 }))).toBe('joined');
  });

  it('starts a check when none is in progress and none is recent enough', () => {
    expect(chooseFresh(at({}))).toBe('new');
    expect(chooseFresh(at({ latestStartedAt: 8_999 }))).toBe('new');
  });

  it('waits for one shared follow-up check behind one that is too old to count', () => {
    expect(chooseFresh(at({ runningStartedAt: 7_000 }))).toBe('queued');
    expect(chooseFresh(at({ runningStartedAt: 7_000, queued: true }))).toBe('queued');
    expect(chooseFresh(at({ queued: true }))).toBe('queued');
  });

  it('with no window, accepts only checks that start at or after the call (concurrent calls still share one)', () => {
    const strict = (over: Partial<FreshState>) => chooseFresh(at({ windowMs: 0, ...over }));
    expect(strict({ latestStartedAt: 9_999 })).toBe('new');
    expect(strict({ runningStartedAt: 9_999 })).toBe('queued');
    expect(strict({ runningStartedAt: 10_000 })).toBe('joined');
  });
});
