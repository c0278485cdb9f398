// The kernel DSM's create over a flat fan-out on 8 nodes (found by the third
// review of issue 15): rank 0's loader image exec's into the program after
// the other ranks have entered dsm_create, and the kernel took that exec for
// rank 0's end -- it dropped their announcements and answered each -ESRCH
// ("rank 0 is gone"). An exec is not a departure: the rank goes on.

import { describe, expect, it } from 'vitest';
import type { UserProgram } from '../../kernel/abi.ts';
import { getProfile } from '../../hw/profile.ts';
import { launch } from '../../monitor/launch.ts';
import { buildReport } from '../../monitor/report.ts';
import { System } from '../../system/system.ts';
import { APPS } from '../../userland/apps/index.ts';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { type Fanout, formatFanout } from '../../userland/lib/jobblock.ts';
import { program } from '../../userland/lib/runtime.ts';

/** A job launched by yod's two-phase load over `fanout` (the fan-out matrix's way, test/userland/fanoutmatrix.ts). */
function runJob(prog: UserProgram, ranks: number, fanout: Fanout, argv: string[]) {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [ranks + 1] }, seed: 1 });
  sys.trace.enabled = false;
  const job = launch(sys, { load: 'two-phase', fanout, programs: [prog], map: [{ firstNid: 0, count: ranks, image: 0 }], argv, timeoutUs: 1_000_000 });
  const stop = sys.run({ done: () => sys.jobDone(job), until: 10e12, maxEvents: 20_000_000 });
  return buildReport(sys, job, stop, fanout, 0);
}

const sharedSum = program('shared-sum', function* (env) {
  const rank = yield* env.sys.getrank();
  const size = yield* env.sys.getsize();
  const dsm = yield* openDsm(env, env.argv[1] === 'user' ? 'user' : 'kernel', 4096);
  yield* env.mem.storeU64(dsm.base + 8 * rank, BigInt(rank + 1));
  yield* dsm.barrier();
  if (rank === 0) {
    let sum = 0n;
    for (let r = 0; r < size; r++) sum += yield* env.mem.loadU64(dsm.base + 8 * r);
    yield* env.sys.publish('sum', Number(sum));
  }
  yield* dsm.barrier();
  yield* dsm.detach();
  return 0;
});

const FLAT: Fanout[] = [{ kind: 'flat' }, { kind: 'flat-concurrent' }];

describe('the kernel DSM over a flat fan-out', () => {
  for (const fanout of FLAT) {
    it(`creates the region on 8 ranks over ${formatFanout(fanout)} although rank 0 starts after the others entered dsm_create`, () => {
      const r = runJob(sharedSum, 8, fanout, ['kernel']);
      expect(r.job.exit_status_counts, r.ranks.map((k) => k.reason ?? '').join('\n')).toEqual({ '0': 8 });
      expect(r.results.sum?.max).toBe(36);
    });
  }

  // The fan-out matrix runs the DSM apps with the user DSM at 7 ranks; here each app with the kernel DSM at 8, kept short.
  const SHORT: Record<string, string[]> = {
    dsm_jacobi: ['n=16', 'iterations=2'],
    dsm_matmul: ['n=16'],
    dsm_counter: ['increments=2'],
    dsm_falseshare: ['writes=2'],
    dsm_litmus: ['runs=1', 'ops=16'],
    dsm_fault: ['pages=1'],
  };
  for (const [app, argv] of Object.entries(SHORT)) {
    it(`runs ${app} with the kernel DSM on 8 ranks over flat with every rank exiting 0`, () => {
      const r = runJob(APPS[app], 8, { kind: 'flat' }, ['kernel', ...argv]);
      expect(r.job.exit_status_counts, r.ranks.map((k) => `${k.reason ?? ''} ${k.stderr}`).join('\n')).toEqual({ '0': 8 });
    });
  }
});
