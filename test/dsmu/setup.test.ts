// openDsm's set-up barrier tells a rank that ended before it joined (its
// process is gone: the kernel answers PTL_NI_TARGET_ENDED) from a rank that
// is merely not up yet (no Portals interface yet: PTL_NI_TARGET_INVALID).
// The first ends the others' openDsm within milliseconds with a DsmError
// naming it; the second is waited for.

import { describe, expect, it } from 'vitest';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';
import { runDsmJob, stderrOf } from './run.ts';

/** Within 50 ms of simulated time (ptlapp alone waited 10 s). */
const PROMPTLY_PS = 50e9;

describe("the user DSM's set-up", () => {
  for (const leaver of [2, 0]) {
    it(`ends the others' openDsm promptly with a DsmError naming rank ${leaver}, which returned before it joined`, () => {
      const sys = boot({ nodes: 3, trace: false });
      const prog = program('dsmu-setup-leaver', function* (env) {
        const rank = yield* env.sys.getrank();
        if (rank === leaver) return 0;
        yield* env.compute(1_000_000);
        yield* openDsm(env, 'user', 3 * 4096);
        yield* env.sys.publish('opened', 1);
        return 0;
      });
      const job = sys.launchDirect(prog, [0, 1, 2], []);
      const stop = sys.run({ done: () => sys.jobDone(job), until: 20e12 });
      expect(stop.kind).toBe('done');
      const procs = job.ranks.map((r) => r.process!);
      for (const p of procs.filter((_, i) => i !== leaver)) {
        expect(p.results.has('opened')).toBe(false);
        expect(p.exitStatus).not.toBe(0);
        expect(p.exitReason).toMatch(new RegExp(`dsm: rank ${leaver} has ended before it joined the shared region`));
        expect(p.endedAt).toBeLessThan(PROMPTLY_PS);
      }
    }, 60_000);
  }

  it('waits for ranks that are merely slow to start (64 ranks loaded over a flat fan-out)', () => {
    const prog = program('dsmu-setup-64', function* (env) {
      const dsm = yield* openDsm(env, 'user', 4096);
      yield* dsm.barrier();
      yield* env.sys.publish('opened', 1);
      return 0;
    });
    const r = runDsmJob(prog, 64);
    expect(r.ranks.length).toBe(64);
    expect(r.ranks.every((k) => k.exit_status === 0), stderrOf(r)).toBe(true);
    expect(r.ranks.every((k) => k.results.opened === 1)).toBe(true);
  }, 300_000);
});
