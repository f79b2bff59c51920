import { type EventLoopUtilization, performance } from 'node:perf_hooks';

/** How long one reading of the event loop's utilization covers, at the least (ms). */
const WINDOW_MS = 50;

/**
 * Whether this process is short of CPU now: the share of the last ≥ 50 ms its event loop spent
 * running rather than waiting for I/O (Node's event-loop utilization) at or above a threshold.
 * Read lazily — a reading is taken when asked and the last one is older than the window — so an
 * idle process keeps no timer, and the first question after a quiet spell covers that spell (not
 * busy). `thresholdPercent` 100 turns it off (never busy); 0 makes it always busy.
 */
export class LoopLoad {
  private last: EventLoopUtilization;
  private lastAt: number;
  private busyNow = false;

  constructor(
    private readonly thresholdPercent: number,
    private readonly utilization: (since?: EventLoopUtilization) => EventLoopUtilization = (since) => performance.eventLoopUtilization(since),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.last = this.utilization();
    this.lastAt = this.now();
  }

  get busy(): boolean {
    if (this.thresholdPercent >= 100) return false;
    if (this.thresholdPercent <= 0) return true;
    const now = this.now();
    if (now - this.lastAt >= WINDOW_MS) {
      this.busyNow = this.utilization(this.last).utilization * 100 >= this.thresholdPercent;
      this.last = this.utilization();
      this.lastAt = now;
    }
    return this.busyNow;
  }
}
