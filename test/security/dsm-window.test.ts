// Attack: a process with the kernel DSM region attached changes the region's
// mappings itself -- mprotect to make a read copy writable (a store no other
// node would see: sequential consistency broken), or munmap a page the
// protocol will map again from the receive interrupt. Both are refused with
// -EINVAL over the whole window (docs/ABI.md), and the region goes on working.

import { describe, expect, it } from 'vitest';
import { LAYOUT } from '../../kernel/abi.ts';
import { ERRNO, PROT_READ, PROT_WRITE, SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';
import { runJob } from '../dsm/helpers.ts';

describe('mprotect and munmap over the kernel DSM window', () => {
  it('are refused with -EINVAL, attached or not, and a store by another rank is still seen', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-window', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.publish('before', yield* env.sys.raw(SYS.munmap, LAYOUT.DSM_BASE, 4096));
      yield* env.sys.raw(SYS.dsm_create, 2 * 4096);
      const base = yield* env.sys.raw(SYS.dsm_attach);
      if (rank === 0) {
        yield* env.mem.loadU64(base); // a read copy of page 0
        yield* env.sys.publish('mprotect', yield* env.sys.raw(SYS.mprotect, base, 4096, PROT_READ | PROT_WRITE));
        yield* env.sys.publish('munmap', yield* env.sys.raw(SYS.munmap, base + 4096, 4096));
        yield* env.sys.publish('straddle', yield* env.sys.raw(SYS.mprotect, base - 4096, 2 * 4096, PROT_READ));
      }
      yield* env.sys.raw(SYS.dsm_barrier);
      if (rank === 1) yield* env.mem.storeU64(base, 42n);
      yield* env.sys.raw(SYS.dsm_barrier);
      yield* env.sys.publish('value', Number(yield* env.mem.loadU64(base)));
      return 0;
    });
    const { job, stop } = runJob(sys, prog, 2, undefined, 1e12);
    expect(stop.kind).toBe('done');
    const p0 = job.ranks[0].process!;
    for (const call of ['before', 'mprotect', 'munmap', 'straddle']) expect([call, p0.results.get(call)]).toEqual([call, -ERRNO.EINVAL]);
    expect(job.ranks.map((r) => r.process!.results.get('value'))).toEqual([42, 42]);
    expect(sys.kernel(0).oopsLog).toEqual([]);
  });
});
