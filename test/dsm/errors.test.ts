// Bad arguments to the DSM calls get -errno, never a hang or a host error.

import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../kernel/errno.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot, runProgram } from '../kernel/helpers.ts';
import { runJob } from './helpers.ts';

describe('DSM calls with bad arguments', () => {
  it('answer -errno for every misuse', () => {
    const { p } = runProgram(
      boot({ nodes: 1, trace: false }),
      program('dsm-errors', function* (env) {
        const s = env.sys;
        const pub = (name: string, v: number) => s.publish(name, v);
        yield* pub('lock_before_create', yield* s.raw(SYS.dsm_lock, 1));
        yield* pub('detach_before_create', yield* s.raw(SYS.dsm_detach));
        yield* pub('stats_before_create', yield* s.raw(SYS.dsm_stats, 0));
        yield* pub('create_zero', yield* s.raw(SYS.dsm_create, 0));
        yield* pub('create_huge', yield* s.raw(SYS.dsm_create, 2 ** 31));
        yield* pub('create_negative', yield* s.raw(SYS.dsm_create, -1n));
        yield* pub('attach_before_create', yield* s.raw(SYS.dsm_attach));
        yield* pub('create', yield* s.raw(SYS.dsm_create, 100));
        yield* pub('create_again', yield* s.raw(SYS.dsm_create, 4096));
        yield* pub('lock_before_attach', yield* s.raw(SYS.dsm_lock, 1));
        yield* pub('attach', yield* s.raw(SYS.dsm_attach));
        yield* pub('attach_attached', yield* s.raw(SYS.dsm_attach));
        yield* pub('lock_negative', yield* s.raw(SYS.dsm_lock, -1));
        yield* pub('lock_too_big', yield* s.raw(SYS.dsm_lock, 2 ** 31));
        yield* pub('unlock_not_held', yield* s.raw(SYS.dsm_unlock, 3));
        yield* pub('lock', yield* s.raw(SYS.dsm_lock, 3));
        yield* pub('lock_again', yield* s.raw(SYS.dsm_lock, 3));
        yield* pub('unlock', yield* s.raw(SYS.dsm_unlock, 3));
        yield* pub('stats_bad_pointer', yield* s.raw(SYS.dsm_stats, 2n ** 47n));
        yield* pub('stats_unmapped', yield* s.raw(SYS.dsm_stats, 0x1000));
        yield* pub('detach', yield* s.raw(SYS.dsm_detach));
        yield* pub('detach_again', yield* s.raw(SYS.dsm_detach));
        yield* pub('attach_after_detach', yield* s.raw(SYS.dsm_attach));
        return 0;
      }),
    );
    const r = Object.fromEntries(p.results);
    expect(p.exitStatus, p.exitReason ?? '').toBe(0);
    expect(r).toEqual({
      lock_before_create: -ERRNO.ENOENT,
      detach_before_create: -ERRNO.ENOENT,
      stats_before_create: -ERRNO.ENOENT,
      create_zero: -ERRNO.EINVAL,
      create_huge: -ERRNO.EINVAL,
      create_negative: -ERRNO.EINVAL,
      attach_before_create: -ERRNO.ENOENT,
      create: 0,
      create_again: -ERRNO.EEXIST,
      lock_before_attach: -ERRNO.ENOENT,
      attach: 0x2000_0000_0000,
      attach_attached: 0x2000_0000_0000,
      lock_negative: -ERRNO.EINVAL,
      lock_too_big: -ERRNO.EINVAL,
      unlock_not_held: -ERRNO.EPERM,
      lock: 0,
      lock_again: -ERRNO.EBUSY,
      unlock: 0,
      stats_bad_pointer: -ERRNO.EFAULT,
      stats_unmapped: -ERRNO.EFAULT,
      detach: 0,
      detach_again: -ERRNO.ENOENT,
      // Detach is final for a rank.
      attach_after_detach: -ERRNO.ENOENT,
    });
  });

  it('fails a create on every rank (no rank waits) when the ranks ask for different sizes or one asks for nothing', () => {
    for (const sizes of [
      [4096, 8192, 4096],
      [4096, 0, 4096],
    ]) {
      const sys = boot({ nodes: 3, trace: false });
      const prog = program('dsm-mismatch', function* (env) {
        const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
        yield* env.sys.publish('create', yield* env.sys.raw(SYS.dsm_create, sizes[rank]));
        // A later create that agrees succeeds: the failed one left nothing behind.
        yield* env.sys.raw(SYS.dsm_create, 4096);
        yield* env.sys.publish('retry', yield* env.sys.raw(SYS.dsm_attach));
        return 0;
      });
      const { job, stop } = runJob(sys, prog, 3);
      expect(stop.kind).toBe('done');
      expect(job.ranks.map((r) => r.process!.results.get('create'))).toEqual([-ERRNO.EINVAL, -ERRNO.EINVAL, -ERRNO.EINVAL]);
      expect(job.ranks.map((r) => r.process!.results.get('retry'))).toEqual([0x2000_0000_0000, 0x2000_0000_0000, 0x2000_0000_0000]);
    }
  });
});

describe('the dsm_stats layout', () => {
  it('is read by the user library in the order the kernel writes it', async () => {
    const { DSM_STATS_WORDS } = await import('../../kernel/dsm/calls.ts');
    const { KERNEL_STATS_WORDS } = await import('../../userland/lib/dsm/kernel.ts');
    expect([...KERNEL_STATS_WORDS]).toEqual([...DSM_STATS_WORDS]);
  });
});
