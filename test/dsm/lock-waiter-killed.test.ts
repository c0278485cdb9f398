// Kernel DSM: a rank killed while it WAITS for a lock (its request queued at
// the manager). The holder's unlock grants the lock to the dead rank; its
// kernel used to find the dead thread still listed as the waiter, "wake" it,
// and never pass the lock on, so every later lock of that id waited for
// ever. Now the process's end takes its threads off every wait list, and a
// grant that finds no live waiter is handed on at once.
import { describe, expect, it } from 'vitest';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

describe('kernel DSM lock whose queued waiter is killed', () => {
  it('is handed on to the next rank that asks once the holder unlocks, not kept by the dead rank for ever', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsm-lock-waiter-killed', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 4096);
      yield* env.sys.raw(SYS.dsm_attach);
      yield* env.sys.raw(SYS.dsm_barrier);
      if (rank === 0) {
        yield* env.sys.raw(SYS.dsm_lock, 0);
        yield* env.compute(20_000_000); // rank 1 queues behind, and is killed meanwhile
        yield* env.sys.raw(SYS.dsm_unlock, 0);
        return 0;
      }
      if (rank === 1) {
        yield* env.compute(1_000_000);
        yield* env.sys.raw(SYS.dsm_lock, 0); // queued; killed while waiting
        return 0;
      }
      yield* env.compute(60_000_000); // well after rank 0's unlock
      yield* env.sys.publish('lock', yield* env.sys.raw(SYS.dsm_lock, 0));
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 2], []);
    const region0 = () => [...sys.kernel(0).dsm.regions.values()][0];
    sys.run({ done: () => (region0()?.locks.get(0)?.queue.length ?? 0) === 1, until: 1e12 });
    sys.kernel(1).killProcess(job.ranks[1].process!, 137, 'killed by the test');
    const stop = sys.run({ done: () => sys.jobDone(job), until: 5e12 });
    expect(stop.kind).toBe('done');
    expect(job.ranks[2].process!.results.get('lock')).toBe(0);
    expect(job.ranks[2].process!.exitStatus).toBe(0);
  });
});
