/** Runs `tick` every `intervalMs` (never overlapping, never throwing out) until stopped. */
export class Loop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly intervalMs: number,
    private readonly tick: () => Promise<unknown>,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      const started = Date.now();
      this.running = this.tick()
        .then(() => undefined, this.onError)
        .finally(() => this.schedule(Math.max(0, this.intervalMs - (Date.now() - started))));
    }, delay);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
