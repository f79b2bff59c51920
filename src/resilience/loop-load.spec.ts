import type { EventLoopUtilization } from 'node:perf_hooks';

import { describe, expect, it } from 'vitest';

import { LoopLoad } from './loop-load.js';

/** An event loop whose running and waiting time the test advances, read as Node's eventLoopUtilization reads it. */
class FakeLoop {
  at = 0;
  private active = 0;
  private idle = 0;

  /** `ms` pass, `share` of them running. */
  pass(ms: number, share: number): void {
    this.at += ms;
    this.active += ms * share;
    this.idle += ms * (1 - share);
  }

  readonly utilization = (since?: EventLoopUtilization): EventLoopUtilization => {
    const active = this.active - (since?.active ?? 0);
    const idle = this.idle - (since?.idle ?? 0);
    return { active, idle, utilization: active + idle === 0 ? 0 : active / (active + idle) };
  };

  readonly now = () => this.at;
}

function loopAt(thresholdPercent: number) {
  const loop = new FakeLoop();
  return { loop, load: new LoopLoad(thresholdPercent, loop.utilization, loop.now) };
}

/** In turn, each step's time passes with that share of it running, and then the load is asked. */
function expectReadings(thresholdPercent: number, steps: Array<[ms: number, share: number, busy: boolean]>): void {
  const { loop, load } = loopAt(thresholdPercent);
  for (const [ms, share, busy] of steps) {
    loop.pass(ms, share);
    expect(load.busy, `after ${ms} ms at ${share * 100} % running`).toBe(busy);
  }
}

describe('LoopLoad', () => {
  it('is busy when the loop ran at least the threshold share of the last window, and not below it', () => {
    expectReadings(90, [
      [100, 0.95, true],
      [100, 0.5, false],
      [100, 0.9, true],
    ]);
  });

  it('keeps a reading for 50 ms: asked again sooner, it answers the same without reading the loop', () => {
    expectReadings(90, [
      [60, 1, true],
      [40, 0, true],
      // 50 ms since the last reading, 0 % of them running
      [10, 0, false],
    ]);
  });

  it('after a quiet spell, the first question covers the spell: a moment of work in it is not busy', () => {
    const { loop, load } = loopAt(90);
    loop.pass(10_000, 0.01);
    loop.pass(20, 1);
    expect(load.busy).toBe(false);
  });

  it('100 % is never busy, even with the loop never waiting; 0 % always is, even idle', () => {
    const off = loopAt(100);
    off.loop.pass(1000, 1);
    expect(off.load.busy).toBe(false);
    const always = loopAt(0);
    always.loop.pass(1000, 0);
    expect(always.load.busy).toBe(true);
  });
});
