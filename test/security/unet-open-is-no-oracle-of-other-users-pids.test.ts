// Found by review (issue #13). unet_open as an oracle: a uid-2 process learns whether a pid on a node is
// alive and belongs to someone else (EACCES) or not there (ECONNREFUSED),
// without any endpoint of that process being involved. (Low severity: an
// information leak; jobrecord.test.ts makes the job messages indistinguishable.)
import { describe, expect, it } from 'vitest';
import { ERRNO, SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { unetCreate } from '../../userland/lib/unet.ts';
import { machine, spawn, waitFor } from '../security/attack.ts';

describe('unet_open to another user\'s process', () => {
  it('answers a live process of another user as it answers no process: ECONNREFUSED', () => {
    const sys = machine(3);
    const s = { done: false, rcs: [] as number[] };
    const victim = program('victim', function* (env) { yield* waitFor(env, () => s.done); return 0; });
    const job = sys.launchDirect(victim, [1], [], 1000);
    const probe = spawn(sys, 0, 2, 'probe', function* (env) {
      yield* env.sys.nanosleep(50_000);
      const ep = yield* unetCreate(env, { entries: 4, bufBytes: 64 });
      const vpid = job.ranks[0].process!.pid;
      // The live victim (no endpoint at all), then a pid nobody has, on node 1.
      s.rcs.push(yield* env.sys.raw(SYS.unet_open, ep.id, 0, 1, vpid, 1, 0));
      s.rcs.push(yield* env.sys.raw(SYS.unet_open, ep.id, 1, 1, 4321, 1, 0));
      s.done = true;
    });
    sys.run({ until: 1e12, done: () => sys.jobDone(job) && !probe.alive });
    expect(s.rcs).toEqual([-ERRNO.ECONNREFUSED, -ERRNO.ECONNREFUSED]);
  });
});
