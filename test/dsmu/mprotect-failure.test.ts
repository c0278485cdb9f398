// Every mprotect the user DSM makes is checked (the third review of issue 15
// found set-up ignoring a refused one, and a rank then believing it held a
// page the kernel had left inaccessible). A program that unmaps a page of its
// own region breaks the protocol for its rank: the install's mprotect fails,
// and the rank ends with a DsmError naming the page and the errno.

import { describe, expect, it } from 'vitest';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

describe('a user DSM mprotect the kernel refuses', () => {
  it('ends the rank with a DsmError naming the page and the errno, not a fault loop', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-mprotect-fails', function* (env) {
      const rank = yield* env.sys.getrank();
      const dsm = yield* openDsm(env, 'user', 2 * 4096);
      if (rank === 1) {
        yield* env.sys.munmap(dsm.base, 4096); // page 0: rank 0's to manage
        yield* env.mem.loadU64(dsm.base);
      }
      yield* dsm.barrier();
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1], []);
    sys.run({ done: () => sys.jobDone(job), until: sys.now + 2e12, maxEvents: 2_000_000 });
    expect(sys.jobDone(job)).toBe(true);
    expect(job.ranks[1].process!.exitReason).toMatch(/dsm: mprotect of page 0 \(0x500000000000\) failed with ENOMEM$/);
  });
});
