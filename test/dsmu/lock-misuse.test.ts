// A rank that locks a lock it holds, or unlocks one it does not hold (found
// by the third review of issue 15): the kernel DSM refuses at once (-EBUSY,
// -EPERM); the user DSM's manager dropped the second lock, so its caller
// waited for ever, and its unlock returned as if it had worked. Both now
// throw the same DsmError.

import { describe, expect, it } from 'vitest';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

type Misuse = 'relock' | 'unlock-not-held' | 'unlock-twice';

function run(impl: 'kernel' | 'user', what: Misuse) {
  const sys = boot({ nodes: 3, trace: false });
  const prog = program('dsm-lock-misuse', function* (env) {
    const rank = yield* env.sys.getrank();
    const dsm = yield* openDsm(env, impl, 4096);
    yield* dsm.barrier();
    if (rank === 1) {
      try {
        if (what === 'relock') {
          yield* dsm.lock(0);
          yield* dsm.lock(0);
        } else if (what === 'unlock-twice') {
          yield* dsm.lock(3);
          yield* dsm.unlock(3);
          yield* dsm.unlock(3);
        } else yield* dsm.unlock(0);
      } catch (e) {
        yield* env.sys.print(`${(e as Error).message}\n`);
      }
      if (what === 'relock') yield* dsm.unlock(0); // the lock is still held, once: give it back
    }
    yield* dsm.barrier();
    // The lock works for the others afterwards.
    if (rank === 2) {
      yield* dsm.lock(0);
      yield* dsm.unlock(0);
    }
    yield* dsm.barrier();
    yield* dsm.detach();
    return 0;
  });
  const job = sys.launchDirect(prog, [0, 1, 2], [impl]);
  sys.run({ done: () => sys.jobDone(job), until: sys.now + 2e12, maxEvents: 3_000_000 });
  return { status: job.ranks.map((r) => r.process!.exitStatus), printed: job.ranks[1].process!.stdout.join('') };
}

describe('a misused DSM lock', () => {
  const cases: [Misuse, string][] = [
    ['relock', 'dsm: lock(0) failed: EBUSY (this rank holds the lock already)\n'],
    ['unlock-not-held', 'dsm: unlock(0) failed: EPERM (this rank does not hold the lock)\n'],
    ['unlock-twice', 'dsm: unlock(3) failed: EPERM (this rank does not hold the lock)\n'],
  ];
  for (const [what, message] of cases) {
    it(`refuses a ${what} with the same DsmError in the kernel and the user DSM, and the lock goes on working`, () => {
      for (const impl of ['kernel', 'user'] as const) {
        const r = run(impl, what);
        expect(r.printed, impl).toBe(message);
        expect(r.status, impl).toEqual([0, 0, 0]);
      }
    });
  }
});

describe('a lock held at detach', () => {
  it('goes to the rank waiting for it, in the kernel and the user DSM alike', () => {
    for (const impl of ['kernel', 'user'] as const) {
      const sys = boot({ nodes: 2, trace: false });
      const prog = program('dsm-detach-holding', function* (env) {
        const rank = yield* env.sys.getrank();
        const dsm = yield* openDsm(env, impl, 4096);
        if (rank === 0) yield* dsm.lock(0);
        yield* dsm.barrier();
        if (rank === 1) {
          yield* dsm.lock(0); // rank 0 detaches holding it
          yield* env.sys.publish('got', 1);
          yield* dsm.unlock(0);
        }
        yield* dsm.detach();
        return 0;
      });
      const job = sys.launchDirect(prog, [0, 1], [impl]);
      sys.run({ done: () => sys.jobDone(job), until: sys.now + 2e12, maxEvents: 3_000_000 });
      expect(job.ranks.map((r) => r.process!.exitStatus), impl).toEqual([0, 0]);
      expect(job.ranks[1].process!.results.get('got'), impl).toBe(1);
    }
  });
});
