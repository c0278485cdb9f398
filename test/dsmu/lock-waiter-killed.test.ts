// User DSM: a rank killed while its lock request is queued at the manager.
// When the holder unlocks, the manager grants the lock to the dead rank.
// The next requester gets the lock or an error naming the dead rank, never a hang.
import { describe, expect, it } from 'vitest';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

describe('user DSM lock whose queued waiter is killed', () => {
  it('gives the lock to the next requester or tells it which rank ended, never leaves it waiting', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsmu-lock-waiter-killed', function* (env) {
      const rank = yield* env.sys.getrank();
      const dsm = yield* openDsm(env, 'user', 4096);
      yield* dsm.barrier();
      yield* env.sys.publish('ready', 1);
      if (rank === 0) {
        yield* dsm.lock(0);
        yield* env.compute(20_000_000);
        yield* dsm.unlock(0);
        yield* env.compute(2_000_000_000);
        return 0;
      }
      if (rank === 1) {
        yield* env.compute(1_000_000);
        yield* dsm.lock(0); // queued; killed while waiting
        return 0;
      }
      yield* env.compute(60_000_000);
      yield* dsm.lock(0);
      yield* env.sys.publish('lock', 0);
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 2], ['user']);
    sys.run({ done: () => job.ranks.every((r) => r.process?.results.has('ready')), until: 1e12 });
    sys.run({ done: () => false, until: sys.now + 2e9 }); // 2 ms: rank 1's request is queued
    sys.kernel(1).killProcess(job.ranks[1].process!, 137, 'killed by the test');
    const stop = sys.run({ done: () => sys.jobDone(job), until: sys.now + 20e12 });
    expect(stop.kind).toBe('done');
    const p2 = job.ranks[2].process!;
    expect(p2.results.has('lock') || /rank 1/.test(p2.exitReason ?? '')).toBe(true);
  }, 120_000);
});
