// The Portals apps' barrier (userland/lib/ptlapp.ts), attacked by a process
// of ANOTHER job of the SAME uid: it puts "arrived" control messages of the
// current epoch to the victim's rank 0, hoping to be counted for the rank
// that has not arrived. Rank 0 counts senders by the rank the kernel reports
// in its own map (kernel/portals/ranks.ts), and the attacker is none of them.
import { describe, expect, it } from 'vitest';
import { CTL_BITS, barrier, setup } from '../../userland/lib/ptlapp.ts';
import { PTL, Portals } from '../../userland/lib/portals.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';
import { waitFor } from './attack.ts';

describe('the Portals apps barrier, attacked by another job of the same uid', () => {
  it('does not release before the late rank arrives, whatever the attacker sends', () => {
    const sys = boot({ nodes: 5, trace: false });
    const s = { ready: false, done: false };
    const victim = program('victim', function* (env) {
      const app = yield* setup(env, 4096);
      if (app.rank === 2) yield* env.compute(24_000_000); // 10 ms late
      if (app.rank === 0) s.ready = true;
      yield* barrier(env, app);
      yield* env.sys.publish('released_ns', yield* env.sys.clockNs());
      return 0;
    });
    const job = sys.launchDirect(victim, [0, 1, 2], [], 1000);
    const attacker = program('attacker', function* (env) {
      if ((yield* env.sys.getrank()) !== 1) return 0;
      yield* waitFor(env, () => s.ready);
      const P = new Portals(env.cpu, env.mem);
      yield* P.PtlInit();
      const { ni } = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_MATCHING | PTL.NI_LOGICAL, PTL.PID_ANY, null);
      const zero = { nid: 0, pid: job.ranks[0].process!.pid };
      yield* P.PtlSetMap(ni, [zero, zero, zero]);
      const buf = yield* env.mem.alloc(8);
      const { md } = yield* P.PtlMDBind(ni, { start: buf, length: 8 });
      for (let i = 0; i < 4; i++) {
        // Epoch 0's arrival, claiming each rank in turn.
        expect(yield* P.PtlPut(md, 0, 8, PTL.NO_ACK_REQ, { rank: 0 }, 0, CTL_BITS, 0, 0, 0n)).toBe(PTL.OK);
        yield* env.compute(24_000);
      }
      s.done = true;
      return 0;
    });
    const other = sys.launchDirect(attacker, [3, 4], [], 1000);
    const stop = sys.run({ until: 1e12, done: () => sys.jobDone(job) && sys.jobDone(other) });
    expect(stop.kind).toBe('done');
    expect(s.done).toBe(true);
    expect(job.ranks.map((r) => r.process!.exitStatus)).toEqual([0, 0, 0]);
    // Rank 0 was released only once rank 2 had computed its 10 ms.
    expect(job.ranks[0].process!.results.get('released_ns')).toBeGreaterThan(10e6);
  });
});
