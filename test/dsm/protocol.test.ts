// The kernel DSM's protocol under random programs: any mix of reads, writes
// and computation on a few pages shared by several ranks keeps a single
// writer or several readers per page after every simulation event, and
// every read returns the last value written before it in the order the
// machine performed the accesses (sequential consistency, with the run
// itself as the witness order).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';
import { recordAccesses, runJob, staleReads, swmrViolations } from './helpers.ts';

type Op = { kind: 'read' | 'write'; slot: number } | { kind: 'compute'; cycles: number };

const SLOTS = 12; // 4 words on each of 3 pages: true and false sharing
const slotOffset = (s: number) => Math.floor(s / 4) * 4096 + (s % 4) * 8;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('read' as const), slot: fc.integer({ min: 0, max: SLOTS - 1 }) }),
  fc.record({ kind: fc.constant('write' as const), slot: fc.integer({ min: 0, max: SLOTS - 1 }) }),
  fc.record({ kind: fc.constant('compute' as const), cycles: fc.integer({ min: 1, max: 20000 }) }),
);

function run(ranks: number, plans: Op[][], cores = 1) {
  const sys = boot({ nodes: ranks, trace: false, cores });
  const prog = program('dsm-random', function* (env) {
    const rank = Number(yield* env.sys.raw(502));
    const d = yield* openDsm(env, 'kernel', 3 * 4096);
    let i = 0;
    for (const op of plans[rank]) {
      i++;
      if (op.kind === 'compute') yield* env.compute(op.cycles);
      else if (op.kind === 'write') yield* env.mem.storeU64(d.base + slotOffset(op.slot), BigInt((rank + 1) * 1_000_000 + i));
      else yield* env.mem.loadU64(d.base + slotOffset(op.slot));
    }
    yield* d.barrier();
    return 0;
  });
  const log = recordAccesses(sys, ranks);
  const swmr: string[] = [];
  const { job, stop } = runJob(sys, prog, ranks, () => {
    if (swmr.length === 0) swmr.push(...swmrViolations(sys, ranks));
  });
  return { sys, job, stop, log, swmr };
}

describe('the kernel DSM protocol', () => {
  it('keeps one writer or many readers per page after every event, and every read returns the last write (random programs)', () => {
    let accesses = 0;
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 4 }), fc.array(fc.array(opArb, { minLength: 10, maxLength: 30 }), { minLength: 4, maxLength: 4 }), (ranks, plans) => {
        const r = run(ranks, plans);
        expect(r.stop.kind).toBe('done');
        for (const rk of r.job.ranks) expect(rk.process!.exitStatus, rk.process!.exitReason ?? '').toBe(0);
        expect(r.swmr).toEqual([]);
        expect(staleReads(r.log)).toEqual([]);
        accesses += r.log.length;
      }),
      { seed: 15, numRuns: 12 },
    );
    expect(accesses).toBeGreaterThan(300);
  });

  it('holds with two threads per rank on different cores (shootdowns to every core that maps the page)', () => {
    const sys = boot({ nodes: 3, trace: false, cores: 2 });
    const prog = program('dsm-threads', function* (env) {
      const rank = Number(yield* env.sys.raw(502));
      const d = yield* openDsm(env, 'kernel', 4096);
      const worker = function* (e: typeof env, arg: number) {
        for (let i = 0; i < 30; i++) {
          const slot = (i * 7 + arg) % 4;
          if ((i + arg) % 3 === 0) yield* e.mem.storeU64(d.base + slot * 8, BigInt(rank * 1000 + arg * 100 + i + 1));
          else yield* e.mem.loadU64(d.base + slot * 8);
          yield* e.compute(500 + 97 * arg);
        }
      };
      const h = yield* env.spawn(worker, 1);
      yield* worker(env, 0);
      yield* env.join(h);
      yield* d.barrier();
      return 0;
    });
    const log = recordAccesses(sys, 3);
    const swmr: string[] = [];
    const { job, stop } = runJob(sys, prog, 3, () => {
      if (swmr.length === 0) swmr.push(...swmrViolations(sys, 3));
    });
    expect(stop.kind).toBe('done');
    for (const rk of job.ranks) expect(rk.process!.exitStatus, rk.process!.exitReason ?? '').toBe(0);
    expect(swmr).toEqual([]);
    expect(staleReads(log)).toEqual([]);
    expect(log.length).toBeGreaterThanOrEqual(3 * 60);
    // Invalidations reached the second core of a node: shootdown IPIs were sent.
    expect([0, 1, 2].reduce((a, n) => a + sys.kernel(n).stats.shootdownIpis, 0)).toBeGreaterThan(0);
  });
});
