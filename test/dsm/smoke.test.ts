import { describe, expect, it } from 'vitest';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot, runProgram } from '../kernel/helpers.ts';

describe('kernel DSM smoke', () => {
  it('a value rank 0 writes is read by rank 1 after a barrier', () => {
    const sys = boot({ nodes: 2 });
    const prog = program('dsm', function* (env) {
      const rank = Number(yield* env.sys.raw(502));
      const d = yield* openDsm(env, 'kernel', 8192);
      if (rank === 0) yield* env.mem.storeU64(d.base + 8, 42n);
      yield* d.barrier();
      const v = yield* env.mem.loadU64(d.base + 8);
      yield* env.sys.publish(`v${rank}`, Number(v));
      const s = yield* d.stats();
      yield* env.sys.publish(`faults${rank}`, s.faults);
      yield* d.barrier();
      return 0;
    });
    const { job, stop } = runProgram(sys, prog, 2);
    const p1 = job.ranks[1].process!;
    const p0 = job.ranks[0].process!;
    expect(stop.kind).toBe('done');
    expect([p0.exitStatus, p1.exitStatus]).toEqual([0, 0]);
    expect(p1.results.get('v1')).toBe(42);
  });
});
