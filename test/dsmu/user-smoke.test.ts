import { describe, expect, it } from 'vitest';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { runDsmJob, stderrOf } from './run.ts';

const prog = program('dsm-smoke', function* main(env) {
  const rank = yield* env.sys.getrank();
  const size = yield* env.sys.getsize();
  const dsm = yield* openDsm(env, 'user', 4 * 4096);
  // every rank writes its own word on page 1, then everyone reads all.
  yield* env.mem.storeU32(dsm.base + 4096 + 4 * rank, rank + 100);
  yield* dsm.barrier();
  let sum = 0;
  for (let r = 0; r < size; r++) sum += yield* env.mem.loadU32(dsm.base + 4096 + 4 * r);
  yield* env.sys.publish('sum', sum);
  const s = yield* dsm.stats();
  yield* env.sys.publish('faults', s.faults);
  yield* dsm.detach();
  return 0;
});

describe('user DSM smoke', () => {
  it('shares a page between ranks', () => {
    const r = runDsmJob(prog, 3);
    expect(r.job.status, stderrOf(r)).toBe('completed');
    expect(r.results.sum?.max).toBe(303);
  });
});
