/** What SampledWarning logs through (a Nest Logger). */
export interface WarningSink {
  warn(message: unknown): void;
}

/**
 * A warning that can come once per request in a burst (a cache read timing out, a lock answered
 * late) is logged at most once per `intervalMs`, with the number folded into it since the last one
 * logged (`suppressed`): under CPU pressure one line per request would add to the very load that
 * causes them. The metrics still count every occurrence.
 */
export class SampledWarning {
  private suppressed = 0;
  private nextAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sink: WarningSink,
    private readonly intervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(fields: Record<string, unknown>): void {
    const now = this.now();
    if (now < this.nextAt) {
      this.suppressed++;
      return;
    }
    this.sink.warn(this.suppressed > 0 ? { ...fields, suppressed: this.suppressed } : fields);
    this.suppressed = 0;
    this.nextAt = now + this.intervalMs;
  }
}
