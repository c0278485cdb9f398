// A node that dies under the user DSM: the rank that needs a page its
// manager held is killed with a reason naming the page and the rank, after
// the give-up time, instead of waiting for ever.

import { describe, expect, it } from 'vitest';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

describe('a node that dies under the user DSM', () => {
  it('kills the rank that needs the dead node\'s page with a clear reason (no hang)', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsmu-death', function* (env) {
      const rank = yield* env.sys.getrank();
      const dsm = yield* openDsm(env, 'user', 3 * 4096);
      yield* dsm.barrier();
      yield* env.sys.publish('ready', 1);
      yield* env.compute(2_000_000);
      // Page 2 is managed (and held) by rank 2, whose node goes down meanwhile.
      if (rank === 0) yield* env.mem.loadU64(dsm.base + 2 * 4096);
      yield* env.sys.publish('survived', 1);
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 2], []);
    const procs = () => job.ranks.map((r) => r.process!);
    expect(sys.run({ done: () => procs().every((p) => p.results.has('ready')), until: 1e12 }).kind).toBe('done');
    sys.machine.network.setNodeDown(2, true);
    sys.kernel(2).killProcess(procs()[2], 137, 'node 2 went down');
    sys.run({ done: () => procs()[0].exitStatus !== null, until: 20e15 });
    const p0 = procs()[0];
    expect(p0.results.has('survived')).toBe(false);
    expect(p0.exitReason).toMatch(/dsm: rank 0 waited for page 2 \(0x500000002000\) \(asked of rank 2\), but rank 2 (does not answer a probe in 20 ms \(its node may be down\)|cannot be reached \(its node is down\)): the shared region cannot go on$/);
    // Found by probing within a few slices, long before the run's time limit.
    expect(p0.endedAt).toBeLessThan(1e12);
  }, 60_000);
});
