// Kernel DSM: hostile arguments and accesses must give -errno (or an ordinary
// fatal fault for the faulting process), never an oops, a host exception or a hang.
import { describe, expect, it } from 'vitest';
import { ERRNO, SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

const M64 = (1n << 64n) - 1n;

describe('kernel dsm_* with hostile arguments', () => {
  it('answers every hostile call with -errno and no oops', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-hostile', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      const r: Record<string, number> = {};
      const call = function* (name: string, nr: number, ...a: (number | bigint)[]) {
        r[name] = yield* env.sys.raw(nr, ...a);
      };
      yield* call('attach-before', SYS.dsm_attach);
      yield* call('barrier-before', SYS.dsm_barrier);
      yield* call('lock-before', SYS.dsm_lock, 1);
      yield* call('stats-before', SYS.dsm_stats, 0x1000);
      yield* call('create-neg', SYS.dsm_create, M64);
      yield* call('create-2p63', SYS.dsm_create, 1n << 63n);
      yield* call('create-2p53', SYS.dsm_create, 2 ** 53);
      yield* call('create-1GiBplus1', SYS.dsm_create, 2 ** 30 + 1);
      yield* call('create-0', SYS.dsm_create, 0);
      // Every failed create above was collective (both ranks called it alike). Now a good one.
      yield* call('create', SYS.dsm_create, 3 * 4096 + 5);
      yield* call('create-again', SYS.dsm_create, 4096);
      const base = yield* env.sys.raw(SYS.dsm_attach);
      r.attach = base;
      yield* call('attach-again', SYS.dsm_attach);
      yield* call('lock-neg', SYS.dsm_lock, M64);
      yield* call('lock-2p31', SYS.dsm_lock, 2 ** 31);
      yield* call('lock-2p53', SYS.dsm_lock, 2 ** 53);
      yield* call('unlock-unheld', SYS.dsm_unlock, 7);
      yield* call('unlock-neg', SYS.dsm_unlock, M64);
      yield* call('stats-null', SYS.dsm_stats, 0);
      yield* call('stats-kernel', SYS.dsm_stats, 1n << 47n);
      yield* call('stats-neg', SYS.dsm_stats, M64);
      yield* call('stats-unaligned', SYS.dsm_stats, base + 4093); // page not present here yet
      yield* env.sys.raw(SYS.dsm_barrier);
      // Rank 1 takes a read copy of page 0: now read-only on rank 1.
      if (rank === 1) {
        yield* env.mem.loadU64(base);
        yield* call('stats-into-readonly-dsm-page', SYS.dsm_stats, base);
        yield* call('mprotect-dsm', SYS.mprotect, base, 4096, 3);
        yield* call('munmap-dsm', SYS.munmap, base, 4096);
        yield* call('clock-into-readonly-dsm', SYS.clock_gettime, 0, base + 64);
      }
      yield* call('lock-ok', SYS.dsm_lock, 2 ** 31 - 1);
      yield* call('lock-held', SYS.dsm_lock, 2 ** 31 - 1);
      yield* call('unlock-ok', SYS.dsm_unlock, 2 ** 31 - 1);
      yield* env.sys.raw(SYS.dsm_barrier);
      // An 8-byte store straddling pages 0 and 1 (not atomic, documented), and one straddling the region's end.
      yield* env.mem.storeU64(base + 4092, 0x1122334455667788n);
      yield* env.sys.raw(SYS.dsm_barrier);
      r.straddle = Number((yield* env.mem.loadU64(base + 4092)) & 0xffffffffn);
      yield* call('detach', SYS.dsm_detach);
      yield* call('detach-again', SYS.dsm_detach);
      yield* call('attach-after-detach', SYS.dsm_attach);
      yield* call('lock-after-detach', SYS.dsm_lock, 1);
      for (const [k, v] of Object.entries(r)) yield* env.sys.publish(k, v);
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1], []);
    const stop = sys.run({ done: () => sys.jobDone(job), until: 5e12 });
    const out = job.ranks.map((x) => Object.fromEntries(x.process!.results));
    expect(stop.kind).toBe('done');
    expect(sys.kernel(0).oopsLog.concat(sys.kernel(1).oopsLog)).toEqual([]);
    expect(job.ranks.map((x) => x.process!.exitStatus)).toEqual([0, 0]);
    const e = ERRNO;
    expect(out[1]['stats-into-readonly-dsm-page']).toBe(-e.EFAULT);
    expect(out[1]['clock-into-readonly-dsm']).toBe(-e.EFAULT);
  });

  it('a store past the region end inside the 1 GiB window is an ordinary fatal fault', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-past-end', function* (env) {
      yield* env.sys.raw(SYS.dsm_create, 4096);
      const base = yield* env.sys.raw(SYS.dsm_attach);
      yield* env.sys.raw(SYS.dsm_barrier);
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      if (rank === 1) yield* env.mem.storeU64(base + 4092, 1n); // straddles the region's end
      yield* env.sys.raw(SYS.dsm_barrier);
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1], []);
    const stop = sys.run({ done: () => sys.jobDone(job), until: 5e12 });
    expect(stop.kind).toBe('done');
    expect(sys.kernel(0).oopsLog.concat(sys.kernel(1).oopsLog)).toEqual([]);
  });
});
