import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzzEbpf } from './ebpf.fuzz.ts';

describe('differential fuzzing of eBPF (seeded, bounded)', () => {
  it('runs every accepted program identically on both engines, never faulting, and refuses bad ELF objects with a reason', () => {
    const c = fuzzEbpf(20261201, 200);
    expect(c.problems).toEqual([]);
    // The generator must keep producing both kinds of program, and runs stopped by the budget.
    expect(c.accepted).toBeGreaterThan(60);
    expect(c.rejected).toBeGreaterThan(40);
    expect(c.limited).toBeGreaterThan(10);
    expect(c.elfRefused).toBeGreaterThan(40);
    expect(c.elfLoaded).toBeGreaterThan(5);
  });

  it('holds for any seed fast-check picks: accepted programs never fault and the engines agree', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        expect(fuzzEbpf(seed, 6).problems).toEqual([]);
      }),
      { numRuns: 15, seed: 42 },
    );
  });

  it('is deterministic for a seed', () => {
    expect(fuzzEbpf(7, 40)).toEqual(fuzzEbpf(7, 40));
  });
});
