// Litmus tests in the style of the memory-model literature, run on a DSM
// region: each is a few threads (ranks 0..3 here) doing loads and stores to
// two shared locations, and an outcome that sequential consistency forbids.
// Each run puts x and y on pages chosen from the run number (so the
// managers and owners change), starts the threads together after a
// barrier, and delays every access by a number of cycles drawn from a
// seeded generator, so that runs explore different interleavings
// deterministically.

import type { U } from '../ops.ts';
import type { Env } from '../runtime.ts';
import type { Dsm } from './api.ts';

/** One access: store `value` to location `loc`, or load `loc` into register `reg`. */
export type Access = { readonly st: 'x' | 'y'; readonly value: number } | { readonly ld: 'x' | 'y'; readonly reg: number };

export interface Litmus {
  readonly name: string;
  /** The accesses of each thread, in program order. */
  readonly threads: readonly (readonly Access[])[];
  /** Registers (r0, r1, ...) and the final x and y: is this outcome forbidden under SC? */
  readonly forbidden: (regs: readonly number[], x: number, y: number) => boolean;
  readonly forbiddenText: string;
}

export const LITMUS: readonly Litmus[] = [
  {
    name: 'MP',
    threads: [
      [{ st: 'x', value: 1 }, { st: 'y', value: 1 }],
      [{ ld: 'y', reg: 0 }, { ld: 'x', reg: 1 }],
    ],
    forbidden: (r) => r[0] === 1 && r[1] === 0,
    forbiddenText: 'r0=1 (saw y=1) and r1=0 (then x=0)',
  },
  {
    name: 'SB',
    threads: [
      [{ st: 'x', value: 1 }, { ld: 'y', reg: 0 }],
      [{ st: 'y', value: 1 }, { ld: 'x', reg: 1 }],
    ],
    forbidden: (r) => r[0] === 0 && r[1] === 0,
    forbiddenText: 'r0=0 and r1=0 (each missed the other\'s store)',
  },
  {
    name: 'IRIW',
    threads: [
      [{ st: 'x', value: 1 }],
      [{ st: 'y', value: 1 }],
      [{ ld: 'x', reg: 0 }, { ld: 'y', reg: 1 }],
      [{ ld: 'y', reg: 2 }, { ld: 'x', reg: 3 }],
    ],
    forbidden: (r) => r[0] === 1 && r[1] === 0 && r[2] === 1 && r[3] === 0,
    forbiddenText: 'the readers saw the two stores in opposite orders (1,0,1,0)',
  },
  {
    name: '2+2W',
    threads: [
      [{ st: 'x', value: 1 }, { st: 'y', value: 2 }],
      [{ st: 'y', value: 1 }, { st: 'x', value: 2 }],
    ],
    forbidden: (_r, x, y) => x === 1 && y === 1,
    forbiddenText: 'final x=1 and y=1 (each thread\'s first store last)',
  },
  {
    name: 'LB',
    threads: [
      [{ ld: 'x', reg: 0 }, { st: 'y', value: 1 }],
      [{ ld: 'y', reg: 1 }, { st: 'x', value: 1 }],
    ],
    forbidden: (r) => r[0] === 1 && r[1] === 1,
    forbiddenText: 'r0=1 and r1=1 (each load saw the other thread\'s later store)',
  },
];

export const LITMUS_RANKS = 4;
/** Pages the litmus region has: x and y go on two of them, results on the last. */
export const LITMUS_PAGES = 9;

/** A small seeded generator (mulberry32): the same seed gives the same delays. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LitmusCount {
  readonly name: string;
  runs: number;
  forbidden: number;
  /** How often each outcome (registers and final x,y) was seen. */
  readonly outcomes: Map<string, number>;
}

/**
 * Runs every litmus test `runs` times on `dsm` (every rank of the job
 * calls it; ranks from LITMUS_RANKS on only take part in the barriers).
 * Rank 0 returns the counts; the others an empty list.
 */
export function* runLitmus(env: Env, dsm: Dsm, rank: number, runs: number, seed: number, maxDelayCycles: number, tests: readonly Litmus[] = LITMUS, resultsVa = -1): U<LitmusCount[]> {
  const { mem } = env;
  const P = 4096;
  // Rank i's registers at results + 64 * i: the region's last litmus page unless the caller gives another place.
  const results = resultsVa >= 0 ? resultsVa : dsm.base + (LITMUS_PAGES - 1) * P;
  const counts: LitmusCount[] = [];
  for (const t of tests) {
    const count: LitmusCount = { name: t.name, runs: 0, forbidden: 0, outcomes: new Map() };
    for (let run = 0; run < runs; run++) {
      // x and y on two different pages of the first LITMUS_PAGES - 1, changing with the run.
      const px = run % (LITMUS_PAGES - 1);
      const py = (px + 1 + ((run >> 3) % (LITMUS_PAGES - 2))) % (LITMUS_PAGES - 1);
      const at = { x: dsm.base + px * P + 8 * (run % 8), y: dsm.base + py * P + 8 * ((run >> 1) % 8) };
      yield* dsm.barrier();
      const mine = t.threads[rank];
      if (mine !== undefined) {
        const next = rng((seed ^ Math.imul(LITMUS.indexOf(t) + 1, 0x9e3779b1) ^ Math.imul(run + 1, 0x85ebca6b) ^ Math.imul(rank + 1, 0xc2b2ae35)) >>> 0);
        const regs: number[] = [];
        for (const a of mine) {
          const d = Math.floor(next() * maxDelayCycles);
          if (d > 0) yield* env.compute(d);
          if ('st' in a) yield* mem.storeU32(at[a.st], a.value);
          else regs[a.reg] = yield* mem.loadU32(at[a.ld]);
        }
        for (const [i, v] of regs.entries()) if (v !== undefined) yield* mem.storeU32(results + 64 * rank + 4 * i, v + 1);
      }
      yield* dsm.barrier();
      if (rank === 0) {
        const regs: number[] = [];
        for (let r = 0; r < t.threads.length; r++) {
          for (let i = 0; i < 4; i++) {
            const v = yield* mem.loadU32(results + 64 * r + 4 * i);
            if (v !== 0) regs[i] = v - 1;
          }
        }
        const x = yield* mem.loadU32(at.x);
        const y = yield* mem.loadU32(at.y);
        count.runs++;
        if (t.forbidden(regs, x, y)) count.forbidden++;
        const key = `${regs.map((v) => String(v)).join(',')}|x=${x},y=${y}`;
        count.outcomes.set(key, (count.outcomes.get(key) ?? 0) + 1);
        // Reset for the next run: locations and results back to 0.
        yield* mem.storeU32(at.x, 0);
        yield* mem.storeU32(at.y, 0);
        for (let r = 0; r < LITMUS_RANKS; r++) for (let i = 0; i < 4; i++) yield* mem.storeU32(results + 64 * r + 4 * i, 0);
      }
    }
    counts.push(count);
  }
  return rank === 0 ? counts : [];
}
