import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { Deadline, deadlineOf, linkedSignal } from './deadline.js';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Deadline', () => {
  it('is due `ms` from now, and says how long is left (never less than 0)', () => {
    const d = Deadline.after(800);
    expect(d.at).toBe(T0 + 800);
    expect(d.remainingMs()).toBe(800);
    vi.setSystemTime(T0 + 900);
    expect(d.remainingMs()).toBe(0);
  });

  it('makes no timer until its signal or `reached` is used', () => {
    const d = Deadline.after(800);
    expect(d.at).toBe(T0 + 800);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('its signal aborts at the deadline, and gives the deadline back to a layer that only has the signal', async () => {
    const d = Deadline.after(800);
    const signal = d.signal;
    expect(d.signal).toBe(signal); // made once
    expect(Deadline.of(signal)).toBe(d);
    expect(deadlineOf(signal)).toBe(T0 + 800);
    await vi.advanceTimersByTimeAsync(799);
    expect(signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(signal.aborted).toBe(true);
  });

  it('a signal no deadline made carries none', () => {
    expect(deadlineOf(new AbortController().signal)).toBeUndefined();
    expect(deadlineOf(undefined)).toBeUndefined();
  });

  it('a call may be cancelled later than its answer is due (cancelAt): the deadline stays `at`', async () => {
    const d = new Deadline(T0 + 800, { cancelAt: T0 + 5800 });
    await vi.advanceTimersByTimeAsync(5799);
    expect(d.signal.aborted).toBe(false);
    expect(deadlineOf(d.signal)).toBe(T0 + 800);
    await vi.advanceTimersByTimeAsync(1);
    expect(d.signal.aborted).toBe(true);
  });

  it('its signal also aborts with its parent (shutdown), at once if the parent already has', () => {
    const parent = new AbortController();
    const d = Deadline.after(800, { parent: parent.signal });
    const signal = d.signal;
    parent.abort();
    expect(signal.aborted).toBe(true);
    expect(Deadline.after(800, { parent: parent.signal }).signal.aborted).toBe(true);
  });

  it('`reached` resolves after the deadline, once the I/O waiting then has been read (one more loop turn)', async () => {
    const d = Deadline.after(100);
    let reached = false;
    void d.reached.then(() => (reached = true));
    expect(d.reached).toBe(d.reached); // one promise, one timer
    await vi.advanceTimersByTimeAsync(100);
    expect(reached).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(reached).toBe(true);
  });

  it('`reached` comes whether or not the signal was cut first', async () => {
    const d = Deadline.after(100);
    const signal = d.signal;
    let reached = false;
    void d.reached.then(() => (reached = true));
    await vi.advanceTimersByTimeAsync(101);
    expect(signal.aborted).toBe(true);
    expect(reached).toBe(true);
  });

  it('dispose ends its timers and its listener on the parent: the signal no longer aborts by itself', async () => {
    const parent = new AbortController();
    const d = Deadline.after(100, { parent: parent.signal });
    const signal = d.signal;
    void d.reached;
    expect(vi.getTimerCount()).toBe(2);
    d.dispose();
    expect(vi.getTimerCount()).toBe(0);
    parent.abort();
    await vi.advanceTimersByTimeAsync(1000);
    expect(signal.aborted).toBe(false);
  });

  it('many deadlines under one parent: the parent holds one listener, and its abort reaches every deadline not disposed', () => {
    const parent = new AbortController();
    const added = vi.spyOn(parent.signal, 'addEventListener');
    const deadlines = Array.from({ length: 1000 }, () => Deadline.after(800, { parent: parent.signal }));
    const signals = deadlines.map((d) => d.signal);
    expect(added).toHaveBeenCalledTimes(1);
    deadlines[0]!.dispose();
    parent.abort();
    expect(signals.filter((s) => s.aborted)).toHaveLength(999);
    expect(signals[0]!.aborted).toBe(false);
  });
});

describe('linkedSignal', () => {
  it('aborts with either signal and keeps the first one\'s deadline', () => {
    const d = Deadline.after(800);
    const sibling = new AbortController();
    const linked = linkedSignal(d.signal, sibling.signal);
    expect(deadlineOf(linked)).toBe(T0 + 800);
    expect(linked.aborted).toBe(false);
    sibling.abort();
    expect(linked.aborted).toBe(true);
    expect(d.signal.aborted).toBe(false);
  });

  it('a signal without a deadline links to one without a deadline', () => {
    expect(deadlineOf(linkedSignal(new AbortController().signal, new AbortController().signal))).toBeUndefined();
  });
});
