// A region whose size is a multiple of 2 MiB (found by the third review of
// issue 15): the user DSM maps it with one mmap at a 2 MiB-aligned address,
// which the kernel backs with 2 MiB pages, and the protocol changes the rights
// of one 4 KiB page at a time. mprotect refused every one of them (-EINVAL
// "inside a 2097152-byte page"), set-up ignored it, and the fault handler
// looped for ever on a page it believed writable. The kernel DSM always ran the
// same program.

import { describe, expect, it } from 'vitest';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { APPS } from '../../userland/apps/index.ts';
import { boot } from '../kernel/helpers.ts';
import { runDsmJob, stderrOf } from './run.ts';

function exchange(impl: 'kernel' | 'user', bytes: number) {
  const sys = boot({ nodes: 2, trace: false });
  const prog = program('dsm-2mib', function* (env) {
    const rank = yield* env.sys.getrank();
    const dsm = yield* openDsm(env, impl, bytes);
    // Page `rank` is managed by this rank; the last page by whichever rank.
    yield* env.mem.storeU64(dsm.base + 4096 * rank, BigInt(rank + 1));
    yield* dsm.barrier();
    yield* env.sys.publish('other', Number(yield* env.mem.loadU64(dsm.base + 4096 * (1 - rank))));
    if (rank === 1) yield* env.mem.storeU64(dsm.base + bytes - 8, 77n);
    yield* dsm.barrier();
    if (rank === 0) yield* env.sys.publish('last', Number(yield* env.mem.loadU64(dsm.base + bytes - 8)));
    yield* dsm.barrier();
    yield* dsm.detach();
    return 0;
  });
  const job = sys.launchDirect(prog, [0, 1], [impl]);
  // A livelocked fault handler fires events without end: bound the run so it fails here.
  const stop = sys.run({ done: () => sys.jobDone(job), until: sys.now + 3e12, maxEvents: 3_000_000 });
  const ranks = job.ranks.map((r) => r.process!);
  return { stop: stop.kind, other: ranks.map((p) => p.results.get('other') ?? null), last: ranks[0].results.get('last') ?? null, status: ranks.map((p) => p.exitStatus), why: ranks.map((p) => p.exitReason ?? '').join(' ') };
}

describe('a DSM region whose size is a multiple of 2 MiB', () => {
  for (const bytes of [2 << 20, 4 << 20]) {
    it(`serves a ${bytes >> 20} MiB region with the user DSM as the kernel DSM does`, () => {
      const k = exchange('kernel', bytes);
      expect(k.other, k.why).toEqual([2, 1]);
      expect(k.last).toBe(77);
      const u = exchange('user', bytes);
      expect(u.other, u.why).toEqual([2, 1]);
      expect(u.last).toBe(77);
      expect(u.status).toEqual([0, 0]);
    });
  }

  it('runs dsm_jacobi n=512 (a 2 MiB grid per array) with the user DSM to the kernel DSM checksum', () => {
    const argv = ['n=512', 'iterations=1'];
    const k = runDsmJob(APPS.dsm_jacobi, 2, ['kernel', ...argv]);
    const u = runDsmJob(APPS.dsm_jacobi, 2, ['user', ...argv], 1, 'redstorm', 5_000_000);
    expect(k.job.exit_status_counts, stderrOf(k)).toEqual({ '0': 2 });
    expect(u.job.exit_status_counts, stderrOf(u)).toEqual({ '0': 2 });
    expect(u.results.checksum).toEqual(k.results.checksum);
  });
});
