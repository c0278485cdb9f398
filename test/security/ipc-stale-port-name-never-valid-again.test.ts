// docs/IPC.md: "A name it was not given, or one freed since (even when the
// slot was reused), is -EBADF". A right's name once had only 63 generations
// per slot: after 63 reuses the stale name denoted the new right again
// (first review of #14). A slot whose generations are used up is retired.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { System } from '../../system/system.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';

describe('a stale port name after its slot was reused', () => {
  it('stays -EBADF however often the slot is reused', () => {
    const prog = program('stale', function* main(env) {
      const { sys, mem } = env;
      const buf = yield* mem.alloc(64);
      const stale = yield* sys.raw(SYS.ipc_port_alloc, 0);
      yield* sys.raw(SYS.ipc_dealloc, stale);
      let aliased = -1;
      for (let i = 1; i <= 200 && aliased < 0; i++) {
        const r = yield* sys.raw(SYS.ipc_port_alloc, 0);
        const s = yield* sys.raw(SYS.ipc_make_send, r); // another slot
        // The stale name: does it reach the new port now?
        if ((yield* sys.raw(SYS.ipc_send, stale, buf, 0, -1)) !== -ERRNO.EBADF && (yield* sys.raw(SYS.ipc_make_send, stale)) >= 0) aliased = i;
        yield* sys.raw(SYS.ipc_dealloc, s);
        yield* sys.raw(SYS.ipc_dealloc, r);
      }
      yield* sys.publish('aliased_after_reuses', aliased);
      return 0;
    });
    const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [1] }, seed: 1 });
    const job = sys.launchDirect(prog, [0], []);
    sys.run({ done: () => sys.jobDone(job), until: 10e12 });
    const r = Object.fromEntries(job.ranks[0].process!.results);
    expect(r.aliased_after_reuses).toBe(-1);
  });
});
