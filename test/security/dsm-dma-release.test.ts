// Attack: a rank's region is freed (every rank detached or ended) while a
// page is still arriving by DMA into its frames. The frames must not go back
// to the allocator -- where another process could get them and see the DMA
// land in its memory -- until the DMA is over (kernel/pin.ts); then they are
// scrubbed and freed.

import { describe, expect, it } from 'vitest';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

describe('a kernel DSM region released with a page DMA in flight', () => {
  it('keeps its frames from reuse until the DMA ends, then frees them scrubbed', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-dma-release', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 4096);
      const base = yield* env.sys.raw(SYS.dsm_attach);
      if (rank === 0) yield* env.mem.storeU64(base, 0x5ec2e7n);
      yield* env.sys.raw(SYS.dsm_barrier);
      if (rank === 1) yield* env.mem.loadU64(base); // the page comes from rank 0 by DMA
      yield* env.compute(1e9);
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1], []);
    const k1 = sys.kernel(1);
    const n = k1.dsm;
    let landing = false;
    const expectRx = n.expectRx.bind(n);
    n.expectRx = (...a: Parameters<typeof n.expectRx>) => {
      landing = true;
      expectRx(...a);
    };
    expect(sys.run({ done: () => landing, until: 1e12 }).kind).toBe('done');
    const r = [...n.regions.values()][0];
    // The requester is killed and the region released (as rank 0's 'release' would) before the page lands.
    k1.killProcess(job.ranks[1].process!, 137, 'killed by the test');
    n.release(r);
    expect(k1.phys.baseOf(r.pa)).toBe(r.pa);
    const other = k1.phys.alloc(r.bytes, 4096);
    expect(other).not.toBe(r.pa);
    // The DMA ends: now the frames are free, and hold nothing of the page.
    sys.run({ done: () => k1.phys.baseOf(r.pa) !== r.pa, until: sys.now + 1e9 });
    expect(k1.phys.baseOf(r.pa)).toBe(-1);
    const buf = new Uint8Array(8);
    k1.node.memory.read(r.pa, buf);
    expect([...buf]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(k1.oopsLog).toEqual([]);
  });
});
