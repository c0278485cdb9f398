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

describe('a create right after every rank detached', () => {
  it('ends on every rank, with the region or with -EBUSY for all, and a retry gets the region', () => {
    for (const ranks of [2, 3, 5]) {
      const sys = boot({ nodes: ranks, trace: false });
      const prog = program('dsm-recreate', function* (env) {
        const create = () => env.sys.raw(SYS.dsm_create, 4096);
        if ((yield* create()) !== 0 || (yield* env.sys.raw(SYS.dsm_attach)) < 0) return 10;
        yield* env.sys.raw(SYS.dsm_barrier);
        yield* env.sys.raw(SYS.dsm_detach);
        let rc = yield* create();
        yield* env.sys.publish('first', rc);
        for (let tries = 0; rc === -ERRNO.EBUSY && tries < 100; tries++) {
          yield* env.sys.nanosleep(50_000);
          rc = yield* create();
        }
        return rc === 0 ? 0 : 11;
      });
      const job = sys.launchDirect(prog, Array.from({ length: ranks }, (_, i) => i), []);
      sys.run({ done: () => sys.jobDone(job), until: sys.now + 1e12, maxEvents: 2_000_000 });
      expect(sys.jobDone(job), `${ranks} ranks`).toBe(true);
      expect(job.ranks.map((r) => r.process!.exitStatus)).toEqual(Array(ranks).fill(0));
      expect(new Set(job.ranks.map((r) => r.process!.results.get('first'))).size, `${ranks} ranks`).toBe(1);
    }
  });
});
