// Attack: after dsm_attach, a process maps a 2 MiB anonymous region with MAP_FIXED
// over the DSM region (0x200000000000 is 2 MiB aligned, so it gets a huge page).
// The DSM keeps writing 4 KiB entries there from the receive interrupt: what happens?
import { describe, expect, it } from 'vitest';
import { LAYOUT } from '../../kernel/abi.ts';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE, SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

describe('mmap(MAP_FIXED) over an attached DSM region', () => {
  it('refuses it (-EINVAL), so a remote write to a page this node reads is served without an oops and the job ends', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('mapfixed', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 4096);
      const base = yield* env.sys.raw(SYS.dsm_attach);
      if (rank === 0) yield* env.mem.loadU64(base); // rank 0 holds a read copy of page 0
      yield* env.sys.raw(SYS.dsm_barrier);
      if (rank === 0) {
        const m = yield* env.sys.raw(SYS.mmap, LAYOUT.DSM_BASE, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
        yield* env.sys.publish('mmap', m);
      }
      yield* env.sys.raw(SYS.dsm_barrier);
      if (rank === 1) yield* env.mem.storeU64(base, 42n); // invalidate rank 0's copy
      yield* env.sys.raw(SYS.dsm_barrier);
      yield* env.sys.publish('done', 1);
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1], []);
    let err: unknown = null;
    let stop: unknown = null;
    try {
      stop = sys.run({ done: () => sys.jobDone(job), until: 10e12 }).kind;
    } catch (e) {
      err = e;
    }
    const p0 = job.ranks[0].process!;
    // Does node 0 still work for an innocent job of another uid after the oops?
    const innocent = program('innocent', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.publish('create', yield* env.sys.raw(SYS.dsm_create, 4096));
      const base = yield* env.sys.raw(SYS.dsm_attach);
      if (rank === 1) yield* env.mem.storeU64(base, 5n);
      yield* env.sys.raw(SYS.dsm_barrier);
      yield* env.sys.publish('value', Number(yield* env.mem.loadU64(base)));
      return 0;
    });
    const other = sys.launchDirect(innocent, [0, 1], [], 1001);
    const stop2 = sys.run({ done: () => sys.jobDone(other), until: sys.now + 10e12 }).kind;
    expect(err).toBeNull();
    expect(p0.results.get('mmap')).toBe(-22);
    expect(sys.kernel(0).oopsLog).toEqual([]);
    expect(stop).toBe('done');
    expect(stop2).toBe('done');
  });

  it('refuses it, so dsm_detach afterwards works', () => {
    const sys = boot({ nodes: 1, trace: false });
    const prog = program('mapfixed-detach', function* (env) {
      yield* env.sys.raw(SYS.dsm_create, 4096);
      const base = yield* env.sys.raw(SYS.dsm_attach);
      yield* env.mem.storeU64(base, 7n); // page 0 held, writable
      yield* env.sys.publish('mmap', yield* env.sys.raw(SYS.mmap, LAYOUT.DSM_BASE, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED));
      yield* env.sys.publish('detach', yield* env.sys.raw(SYS.dsm_detach));
      return 0;
    });
    const job = sys.launchDirect(prog, [0], []);
    let err: unknown = null;
    try {
      sys.run({ done: () => sys.jobDone(job), until: 1e12 });
    } catch (e) {
      err = e;
    }
    const p = job.ranks[0].process!;
    expect(err).toBeNull();
    expect(p.results.get('mmap')).toBe(-22);
    expect(p.results.get('detach')).toBe(0);
    expect(p.exitStatus).toBe(0);
  });
});
