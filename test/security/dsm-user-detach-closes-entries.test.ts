// The user DSM's detach closes what set-up opened (the third review of issue
// 15 found its Portals interface, portal index 3, entries, event queues and
// inbox left in place after detach, open to the job's members' puts): after
// detach the process has no Portals interface left, and a member's put to its
// DSM entries is refused.

import { describe, expect, it } from 'vitest';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { PTL, Portals } from '../../userland/lib/portals.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

describe('a detached user DSM', () => {
  it('keeps no Portals interface, and a member of the job cannot put into its entries any more', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-detach-closes', function* (env) {
      const rank = yield* env.sys.getrank();
      const dsm = yield* openDsm(env, 'user', 4096);
      yield* dsm.detach();
      if (rank === 0) {
        yield* env.sys.nanosleep(1_000_000);
        return 0;
      }
      // Rank 1 opens its own interface over the job and puts where rank 0's DSM took control messages.
      const P = new Portals(env.cpu, env.mem);
      yield* P.PtlInit();
      const n = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_MATCHING | PTL.NI_LOGICAL, PTL.PID_ANY, null);
      yield* P.PtlSetMap(n.ni, yield* env.sys.jobMap());
      const eq = yield* P.PtlEQAlloc(n.ni, 16);
      const buf = yield* env.mem.alloc(64);
      const md = yield* P.PtlMDBind(n.ni, { start: buf, length: 8, eq_handle: eq.eq, options: 0 });
      yield* P.PtlPut(md.md, 0, 8, PTL.ACK_REQ, { rank: 0 }, 3, 0xd5a0n, 0, 0, 0n);
      for (;;) {
        const r = yield* P.PtlEQWait(eq.eq);
        if (r.event?.type === PTL.EVENT_ACK) {
          yield* env.sys.publish('ack_fail', r.event.ni_fail_type);
          break;
        }
      }
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1], []);
    sys.run({ done: () => sys.jobDone(job), until: sys.now + 1e12, maxEvents: 2_000_000 });
    const p0 = job.ranks[0].process!;
    expect(job.ranks.map((r) => r.process!.exitStatus)).toEqual([0, 0]);
    expect(job.ranks[1].process!.results.get('ack_fail')).not.toBe(PTL.NI_OK);
    const pp = sys.kernel(0).portals.procs.get(p0.pid);
    expect(pp === undefined || pp.nis.every((ni) => ni === null)).toBe(true);
  });
});
