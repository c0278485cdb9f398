// Open, detach, open again (found by the third review of issue 15): the user
// DSM's detach only unmapped the region, leaving its Portals interface, map,
// portal index, event queues, entries and ~81 pages of inbox and send
// buffers in place (still open to puts from the job's members), and a second
// openDsm failed with "PtlSetMap failed with PTL code 6". The kernel DSM
// always let a program open a second region.

import { describe, expect, it } from 'vitest';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

function run(impl: 'kernel' | 'user') {
  const sys = boot({ nodes: 2, trace: false });
  const prog = program('dsm-reopen', function* (env) {
    const rank = yield* env.sys.getrank();
    const buf = yield* env.mem.alloc(32 * 256);
    const regions = () => env.sys.raw(SYS.lwk_aspace_regions, buf, 256);
    const before = (yield* regions());
    const a = yield* openDsm(env, impl, 4096);
    yield* env.mem.storeU64(a.base + 8 * rank, 1n);
    yield* a.barrier();
    yield* a.detach();
    yield* env.sys.publish('mappings_left', (yield* regions()) - before);
    let b;
    for (let tries = 0; ; tries++) {
      try {
        b = yield* openDsm(env, impl, 8192);
        break;
      } catch (e) {
        // The kernel DSM's documented answer to a create right after a detach: try again.
        if (tries < 50 && /EBUSY/.test((e as Error).message)) {
          yield* env.sys.nanosleep(100_000);
          continue;
        }
        throw e;
      }
    }
    yield* env.mem.storeU64(b.base + 4096 + 8 * rank, BigInt(rank + 10));
    yield* b.barrier();
    yield* env.sys.publish('other', Number(yield* env.mem.loadU64(b.base + 4096 + 8 * (1 - rank))));
    yield* env.sys.publish('first_region_zeroed', Number(yield* env.mem.loadU64(b.base + 8 * (1 - rank))) === 0 ? 1 : 0);
    yield* b.barrier();
    yield* b.detach();
    return 0;
  });
  const job = sys.launchDirect(prog, [0, 1], [impl]);
  sys.run({ done: () => sys.jobDone(job), until: sys.now + 5e12, maxEvents: 5_000_000 });
  return job.ranks.map((r) => {
    const got = (k: string) => r.process!.results.get(k);
    return { reason: r.process!.exitReason, other: got('other'), first_region_zeroed: got('first_region_zeroed'), mappings_left: got('mappings_left') };
  });
}

describe('a DSM region opened again after detach', () => {
  for (const impl of ['kernel', 'user'] as const) {
    it(`works with the ${impl} DSM, and detach leaves no mapping behind`, () => {
      const ranks = run(impl);
      expect(ranks.map((r) => r.reason)).toEqual([null, null]);
      expect(ranks.map((r) => r.other)).toEqual([11, 10]);
      expect(ranks.map((r) => r.first_region_zeroed)).toEqual([1, 1]);
      expect(ranks.map((r) => r.mappings_left)).toEqual([0, 0]);
    });
  }
});
