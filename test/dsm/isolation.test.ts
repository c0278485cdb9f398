// Another job cannot reach a job's DSM region: not by attaching (the kernel
// derives the region from the caller's own job, so there is nothing to
// name), not by loading at the region's address, and not by creating a
// region of its own on the same nodes (it gets its own, zeroed frames).

import { describe, expect, it } from 'vitest';
import { LAYOUT } from '../../kernel/abi.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

const SECRET = 0x5ec2e7n;

describe('DSM isolation between jobs', () => {
  it('refuses another job (another uid, or the same uid) the region: attach is -ENOENT, a load faults, its own region reads zeros', () => {
    const sys = boot({ nodes: 2, trace: false });
    const victim = program('victim', function* (env) {
      yield* env.sys.raw(SYS.dsm_create, 4096);
      const base = yield* env.sys.raw(SYS.dsm_attach);
      yield* env.mem.storeU64(base, SECRET);
      yield* env.sys.raw(SYS.dsm_barrier);
      yield* env.sys.publish('ready', 1);
      yield* env.compute(5_000_000);
      // The victim's data is untouched by the intruders.
      yield* env.sys.publish('after', Number(yield* env.mem.loadU64(base)));
      return 0;
    });
    const prober = program('prober', function* (env) {
      yield* env.sys.publish('attach', yield* env.sys.raw(SYS.dsm_attach));
      yield* env.sys.publish('lock', yield* env.sys.raw(SYS.dsm_lock, 0));
      yield* env.sys.publish('barrier', yield* env.sys.raw(SYS.dsm_barrier));
      yield* env.sys.raw(SYS.dsm_create, 4096);
      const base = yield* env.sys.raw(SYS.dsm_attach);
      yield* env.sys.publish('own_base', base);
      yield* env.sys.publish('own_value', Number(yield* env.mem.loadU64(base)));
      yield* env.sys.raw(SYS.dsm_detach);
      // With nothing mapped at the region's address, a load there is an ordinary fatal fault.
      yield* env.mem.loadU64(LAYOUT.DSM_BASE);
      yield* env.sys.publish('read_after_detach', 1);
      return 0;
    });
    const v = sys.launchDirect(victim, [0, 1], [], 1000);
    sys.run({ done: () => v.ranks.every((r) => r.process!.results.has('ready')), until: 1e12 });
    const other = sys.launchDirect(prober, [0, 1], [], 1001);
    const same = sys.launchDirect(prober, [0, 1], [], 1000);
    expect(sys.run({ done: () => [v, other, same].every((j) => sys.jobDone(j)), until: 10e12 }).kind).toBe('done');
    for (const j of [other, same]) {
      for (const r of j.ranks) {
        const res = r.process!.results;
        expect(res.get('attach')).toBe(-ERRNO.ENOENT);
        expect(res.get('lock')).toBe(-ERRNO.ENOENT);
        expect(res.get('barrier')).toBe(-ERRNO.ENOENT);
        expect(res.get('own_base')).toBe(LAYOUT.DSM_BASE);
        expect(res.get('own_value')).toBe(0);
        expect(res.has('read_after_detach')).toBe(false);
        expect(r.process!.exitReason).toMatch(/page fault at 0x200000000000: read/);
      }
    }
    for (const r of v.ranks) expect(r.process!.results.get('after')).toBe(Number(SECRET));
  });
});
