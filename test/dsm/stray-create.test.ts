// A stray second dsm_create from one rank while the job's region exists (a
// suspicion of the third review of issue 15, reproduced here): the rank gets
// -EEXIST, but its announcement stayed in rank 0's node's tally, so the job's
// next create, once every rank had detached and the region was released,
// counted that stale -EBUSY and failed.

import { describe, expect, it } from 'vitest';
import { ERRNO, SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

function run(strayRank: number) {
  const sys = boot({ nodes: 3, trace: false });
  const prog = program('dsm-stray-create', function* (env) {
    const rank = yield* env.sys.getrank();
    const create = () => env.sys.raw(SYS.dsm_create, 4096);
    if ((yield* create()) !== 0 || (yield* env.sys.raw(SYS.dsm_attach)) < 0) return 10;
    if (rank === strayRank) yield* env.sys.publish('stray', yield* create());
    yield* env.sys.raw(SYS.dsm_barrier);
    yield* env.sys.raw(SYS.dsm_detach);
    // The release reaches every node; the stray rank comes last to the next create.
    yield* env.sys.nanosleep(rank === strayRank ? 3_000_000 : 2_000_000);
    yield* env.sys.publish('second', yield* create());
    return 0;
  });
  const job = sys.launchDirect(prog, [0, 1, 2], []);
  sys.run({ done: () => sys.jobDone(job), until: sys.now + 1e12, maxEvents: 2_000_000 });
  return { stray: job.ranks[strayRank].process!.results.get('stray'), second: job.ranks.map((r) => r.process!.results.get('second') ?? null), left: sys.kernel(0).dsm.pendingJoins };
}

describe('a stray dsm_create while the region exists', () => {
  for (const strayRank of [0, 1, 2]) {
    it(`is refused with -EEXIST on rank ${strayRank} and leaves nothing that fails the job's next create`, () => {
      const r = run(strayRank);
      expect(r.stray).toBe(-ERRNO.EEXIST);
      expect(r.second).toEqual([0, 0, 0]);
      expect(r.left).toBe(0);
    });
  }
});
