import { describe, expect, it } from 'vitest';
import { Engine, type EventSink } from '../../hw/engine.ts';
import { SimTimeError } from '../../hw/errors.ts';
import { Rng } from '../../hw/rng.ts';

function recorder() {
  const log: string[] = [];
  const sink: EventSink = {
    fire: (kind, arg) => log.push(`${kind}:${arg}`),
    describe: (kind) => `k${kind}`,
  };
  return { log, sink };
}

describe('the event engine', () => {
  it('fires events in time order and equal times in insertion order', () => {
    const e = new Engine();
    const { log, sink } = recorder();
    e.at(30, sink, 3);
    e.at(10, sink, 1, 1);
    e.at(10, sink, 1, 2);
    e.at(20, sink, 2);
    e.at(10, sink, 1, 3);
    e.runUntilIdle();
    expect(log).toEqual(['1:1', '1:2', '1:3', '2:0', '3:0']);
    expect(e.now).toBe(30);
  });

  it('keeps insertion order among thousands of equal-time events', () => {
    const e = new Engine();
    const seen: number[] = [];
    const sink: EventSink = { fire: (_k, a) => seen.push(a), describe: () => '' };
    for (let i = 0; i < 5000; i++) e.at(7, sink, 0, i);
    e.runUntilIdle();
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.length).toBe(5000);
  });

  it('cancels a pending event and reports whether it was pending', () => {
    const e = new Engine();
    const { log, sink } = recorder();
    const a = e.at(5, sink, 1);
    e.at(6, sink, 2);
    expect(e.cancel(a)).toBe(true);
    expect(e.cancel(a)).toBe(false);
    expect(e.pending).toBe(1);
    e.runUntilIdle();
    expect(log).toEqual(['2:0']);
    expect(e.cancel(a)).toBe(false);
  });

  it('does not confuse a cancelled id with a later event that reuses its slot', () => {
    const e = new Engine();
    const { log, sink } = recorder();
    const a = e.at(1, sink, 1);
    e.runUntilIdle();
    const b = e.at(2, sink, 2);
    expect(e.cancel(a)).toBe(false);
    expect(e.isPending(b)).toBe(true);
    e.runUntilIdle();
    expect(log).toEqual(['1:0', '2:0']);
  });

  it('steps one event at a time and peeks without firing', () => {
    const e = new Engine();
    const { log, sink } = recorder();
    e.at(100, sink, 1);
    e.at(200, sink, 2);
    expect(e.peek()?.time).toBe(100);
    expect(e.step()).toBe(true);
    expect(log).toEqual(['1:0']);
    expect(e.now).toBe(100);
    expect(e.step()).toBe(true);
    expect(e.step()).toBe(false);
  });

  it('runs until a time, leaving later events pending and the clock at that time', () => {
    const e = new Engine();
    const { log, sink } = recorder();
    e.at(100, sink, 1);
    e.at(200, sink, 2);
    e.at(300, sink, 3);
    e.runUntil(200);
    expect(log).toEqual(['1:0', '2:0']);
    expect(e.now).toBe(200);
    e.runUntil(250);
    expect(e.now).toBe(250);
    expect(e.pending).toBe(1);
  });

  it('runs while a predicate holds', () => {
    const e = new Engine();
    let count = 0;
    const sink: EventSink = { fire: () => void (count++, e.after(10, sink, 0)), describe: () => '' };
    e.after(0, sink, 0);
    e.runWhile(() => count < 42);
    expect(count).toBe(42);
  });

  it('keeps events due past the last representable picosecond aside: they never fire and can be cancelled', () => {
    const e = new Engine();
    const { sink, log } = recorder();
    expect(() => e.at(1.5, sink, 0)).toThrow(SimTimeError);
    expect(() => e.at(Number.NaN, sink, 0)).toThrow(SimTimeError);
    const late = e.at(Number.MAX_SAFE_INTEGER + 2, sink, 0);
    const never = e.at(Infinity, sink, 1);
    e.at(Number.MAX_SAFE_INTEGER, sink, 2);
    expect(e.pendingPastEnd).toBe(2);
    expect(e.pastEndTime()).toBe(Number.MAX_SAFE_INTEGER + 2);
    expect(e.runUntilIdle()).toBe(1);
    expect(log).toEqual(['2:0']);
    expect(e.now).toBe(Number.MAX_SAFE_INTEGER);
    e.after(1, sink, 3);
    expect(e.pendingPastEnd).toBe(3);
    expect(e.isPending(late)).toBe(true);
    expect(e.cancel(late)).toBe(true);
    expect(e.cancel(late)).toBe(false);
    expect(e.isPending(never)).toBe(true);
    expect(e.pendingPastEnd).toBe(2);
    expect(e.pastEndTime()).toBe(Number.MAX_SAFE_INTEGER + 1);
  });

  it('refuses to schedule in the past', () => {
    const e = new Engine();
    const { sink } = recorder();
    e.at(50, sink, 0);
    e.runUntilIdle();
    expect(() => e.at(10, sink, 0)).toThrow(/before now/);
  });

  it('is deterministic: the same seed gives the same event sequence hash', () => {
    const run = (seed: number) => {
      const e = new Engine();
      const rng = new Rng(seed);
      let hash = 2166136261;
      e.observer = (t, _s, k, a) => {
        hash = Math.imul(hash ^ (t % 4294967296), 16777619) >>> 0;
        hash = Math.imul(hash ^ k ^ a, 16777619) >>> 0;
      };
      const sink: EventSink = {
        fire: (kind) => {
          if (e.fired < 20_000) e.after(rng.nextInt(1000), sink, (kind + 1) % 7, rng.nextInt(100));
        },
        describe: () => '',
      };
      for (let i = 0; i < 100; i++) e.after(rng.nextInt(1000), sink, i % 7);
      e.runUntilIdle();
      return hash;
    };
    expect(run(42)).toBe(run(42));
    expect(run(42)).not.toBe(run(43));
  });
});

describe('the seeded PRNG', () => {
  it('repeats for the same seed and stays in range', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    for (let i = 0; i < 1000; i++) {
      const x = a.nextInt(10);
      expect(x).toBe(b.nextInt(10));
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(10);
    }
    const f = a.nextFloat();
    expect(f).toBeGreaterThanOrEqual(0);
    expect(f).toBeLessThan(1);
  });
});
