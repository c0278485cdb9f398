// User DSM: a member of the job floods rank 0's DSM portal with junk puts
// (unknown kind, so each is dropped) while ranks 0 and 1 use locks and pages.
// The junk is dropped and counted; the flooded rank stays alive and the
// counter comes out right.
import { describe, expect, it } from 'vitest';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { PTL } from '../../userland/lib/portals.ts';
import { barrier, setup } from '../../userland/lib/ptlapp.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

const FLOOD = 1000;

describe('a member flooding the user DSM', () => {
  it('drops and counts the junk, and the flooded rank goes on serving a correct counter', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsmu-flood', function* (env) {
      const rank = yield* env.sys.getrank();
      if (rank === 2) {
        const app = yield* setup(env, 4096);
        yield* barrier(env, app);
        let bad = 0;
        for (let i = 0; i < FLOOD; i++) if ((yield* app.P.PtlPut(app.md, 0, 0, PTL.NO_ACK_REQ, { rank: 0 }, 3, 0xd5a0n, 0, 0, 99n)) !== PTL.OK) bad++;
        yield* env.sys.publish('flooded', FLOOD - bad);
        return 0;
      }
      const dsm = yield* openDsm(env, 'user', 4096);
      for (let i = 0; i < 30; i++) {
        yield* dsm.lock(0);
        const v = yield* env.mem.loadU64(dsm.base);
        yield* env.mem.storeU64(dsm.base, v + 1n);
        yield* dsm.unlock(0);
      }
      // Both stay alive until rank 0 has seen both ranks' increments (no page lost to an early exit).
      let seen = 0n;
      for (let tries = 0; tries < 2000 && seen < 60n; tries++) {
        yield* dsm.lock(0);
        seen = yield* env.mem.loadU64(dsm.base);
        yield* dsm.unlock(0);
        yield* env.compute(20_000);
      }
      yield* env.sys.publish('counter', Number(seen));
      yield* env.sys.publish('dropped', (yield* dsm.stats()).dropped ?? -1);
      if (rank === 1) yield* env.compute(5_000_000);
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 2], ['user']);
    const stop = sys.run({ done: () => sys.jobDone(job), until: 10e12 });
    const ps = job.ranks.map((r) => r.process!);
    expect(sys.kernel(0).oopsLog).toEqual([]);
    expect(stop.kind).toBe('done');
    expect(ps[0].results.get('counter')).toBe(60);
    expect(ps[0].results.get('dropped')).toBeGreaterThan(0);
  }, 120_000);
});
