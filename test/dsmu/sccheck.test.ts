// The SC checker's graph test on its own: it accepts every history produced
// by some interleaving, and it catches the classic violations.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSc } from '../../userland/lib/dsm/sccheck.ts';

type Op = { write: boolean; loc: number; v: number };

/** Runs `threads` (lists of {write, loc}) in the interleaving `order` on one memory; returns the logs. */
function interleave(threads: { write: boolean; loc: number }[][], order: number[]): Op[][] {
  const mem = new Map<number, number>();
  const pos = threads.map(() => 0);
  const logs: Op[][] = threads.map(() => []);
  for (const pick of order) {
    const t = pick % threads.length;
    if (pos[t] >= threads[t].length) continue;
    const a = threads[t][pos[t]++];
    const cur = mem.get(a.loc) ?? 0;
    if (a.write) mem.set(a.loc, cur + 1);
    logs[t].push({ write: a.write, loc: a.loc, v: a.write ? cur + 1 : cur });
  }
  // Whatever the order did not reach runs at the end, thread by thread.
  for (const [t, ops] of threads.entries()) {
    while (pos[t] < ops.length) {
      const a = ops[pos[t]++];
      const cur = mem.get(a.loc) ?? 0;
      if (a.write) mem.set(a.loc, cur + 1);
      logs[t].push({ write: a.write, loc: a.loc, v: a.write ? cur + 1 : cur });
    }
  }
  return logs;
}

describe('the SC checker', () => {
  it('accepts every history that one interleaving of the threads produced (property)', () => {
    const access = fc.record({ write: fc.boolean(), loc: fc.integer({ min: 0, max: 3 }) });
    fc.assert(
      fc.property(fc.array(fc.array(access, { maxLength: 12 }), { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 80 }), (threads, order) => {
        const r = checkSc(interleave(threads, order), 4);
        expect(r.violations).toBe(0);
      }),
      { seed: 15, numRuns: 300 },
    );
  });

  it('catches store buffering where both loads missed the other store', () => {
    // T0: x=1 (version 1); read y -> 0.  T1: y=1; read x -> 0.  No global order explains both.
    const logs: Op[][] = [
      [{ write: true, loc: 0, v: 1 }, { write: false, loc: 1, v: 0 }],
      [{ write: true, loc: 1, v: 1 }, { write: false, loc: 0, v: 0 }],
    ];
    expect(checkSc(logs, 2).violations).toBeGreaterThan(0);
  });

  it('catches two readers that saw two independent writes in opposite orders (IRIW)', () => {
    const logs: Op[][] = [
      [{ write: true, loc: 0, v: 1 }],
      [{ write: true, loc: 1, v: 1 }],
      [{ write: false, loc: 0, v: 1 }, { write: false, loc: 1, v: 0 }],
      [{ write: false, loc: 1, v: 1 }, { write: false, loc: 0, v: 0 }],
    ];
    expect(checkSc(logs, 2).violations).toBeGreaterThan(0);
  });

  it('catches a read that goes back in time (a thread sees version 2, then version 1)', () => {
    const logs: Op[][] = [
      [{ write: true, loc: 0, v: 1 }, { write: true, loc: 0, v: 2 }],
      [{ write: false, loc: 0, v: 2 }, { write: false, loc: 0, v: 1 }],
    ];
    expect(checkSc(logs, 1).violations).toBeGreaterThan(0);
  });

  it('counts a read of a version nobody wrote, and two writes of one version', () => {
    expect(checkSc([[{ write: false, loc: 0, v: 7 }]], 1).impossibleReads).toBe(1);
    expect(checkSc([[{ write: true, loc: 0, v: 1 }], [{ write: true, loc: 0, v: 1 }]], 1).violations).toBeGreaterThan(0);
  });
});
