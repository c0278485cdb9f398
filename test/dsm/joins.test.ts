// dsm_create's rendezvous: rank 0's node keeps the other ranks'
// announcements until it counts the create out. They must not outlive the
// job (repeated jobs would fill the table and deny every later create), and
// a full table or a missing rank 0 gets a -errno, never a hang.

import { describe, expect, it } from 'vitest';
import { JOIN_LIMIT } from '../../kernel/dsm/node.ts';
import { ERRNO, SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';
import { runJob } from './helpers.ts';

describe("dsm_create's announcements", () => {
  it('are cleared when rank 0 ends without creating, over many sequential jobs, and the waiting rank gets -ESRCH', () => {
    const sys = boot({ nodes: 2, trace: false });
    for (let j = 0; j < 40; j++) {
      // Rank 0 ends before or after rank 1's announcement reaches it, by turns.
      const prog = program(`dsm-no-rank0-${j}`, function* (env) {
        const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
        if (rank === 0) {
          yield* env.compute(j % 2 === 0 ? 1000 : 2_000_000);
          return 0;
        }
        yield* env.sys.publish('create', yield* env.sys.raw(SYS.dsm_create, 4096));
        return 0;
      });
      const { job, stop } = runJob(sys, prog, 2, undefined, sys.engine.now + 1e12);
      expect(stop.kind).toBe('done');
      expect(job.ranks[1].process!.results.get('create')).toBe(-ERRNO.ESRCH);
      expect(sys.kernel(0).dsm.pendingJoins).toBe(0);
    }
    // The node still creates regions afterwards.
    const ok = program('dsm-after', function* (env) {
      yield* env.sys.publish('create', yield* env.sys.raw(SYS.dsm_create, 4096));
      return 0;
    });
    const { job } = runJob(sys, ok, 2, undefined, sys.engine.now + 1e12);
    expect(job.ranks.map((r) => r.process!.results.get('create'))).toEqual([0, 0]);
  });

  it('refuses a create with -EAGAIN on every rank when rank 0\'s node keeps JOIN_LIMIT announcements already', () => {
    const sys = boot({ nodes: 2, trace: false });
    const n = sys.kernel(0).dsm;
    // Fill the table as if JOIN_LIMIT creates were half done (the kernel's own counting path).
    for (let i = 0; i < JOIN_LIMIT; i++) {
      const g = n.countJoin({ uid: 77, nid0: 0, pid0: 1_000_000 + i }, 1, { nid: 1, value: 4096 }, sys.kernel(0).cpus[0]);
      while (!g.next().done);
    }
    expect(n.pendingJoins).toBe(JOIN_LIMIT);
    const prog = program('dsm-full', function* (env) {
      yield* env.sys.publish('create', yield* env.sys.raw(SYS.dsm_create, 4096));
      yield* env.compute(5_000_000); // rank 0 stays while rank 1's announcement arrives
      return 0;
    });
    const { job, stop } = runJob(sys, prog, 2, undefined, 1e12);
    expect(stop.kind).toBe('done');
    expect(job.ranks.map((r) => r.process!.results.get('create'))).toEqual([-ERRNO.EAGAIN, -ERRNO.EAGAIN]);
  });
});
