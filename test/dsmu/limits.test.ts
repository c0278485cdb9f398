// The bounds a program meets with either DSM (the third review of issue 15
// found them different and undocumented): the same largest region, 1 GiB;
// lock ids 0 to 2^31-1 in the kernel DSM and 0 to 65535 in the user DSM
// (docs/DSM.md's API section says why).

import { describe, expect, it } from 'vitest';
import { MAX_DSM_BYTES } from '../../kernel/dsm/calls.ts';
import { MAX_LOCK_ID } from '../../kernel/dsm/sync.ts';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { USER_DSM_LOCKS, USER_DSM_MAX_BYTES } from '../../userland/lib/dsm/user.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

function attempts(impl: 'kernel' | 'user', lockIds: number[]) {
  const sys = boot({ nodes: 1, trace: false });
  const seen: string[] = [];
  const prog = program('dsm-limits', function* (env) {
    try {
      yield* openDsm(env, impl, USER_DSM_MAX_BYTES + 1);
      seen.push('opened');
    } catch (e) {
      seen.push((e as Error).message);
    }
    const dsm = yield* openDsm(env, impl, 4096);
    for (const id of lockIds) {
      try {
        yield* dsm.lock(id);
        yield* dsm.unlock(id);
        seen.push(`lock ${id}: ok`);
      } catch (e) {
        seen.push(`lock ${id}: ${(e as Error).message}`);
      }
    }
    yield* dsm.detach();
    return 0;
  });
  const job = sys.launchDirect(prog, [0], [impl]);
  sys.run({ done: () => sys.jobDone(job), until: sys.now + 1e12, maxEvents: 1_000_000 });
  expect(job.ranks[0].process!.exitStatus, job.ranks[0].process!.exitReason ?? '').toBe(0);
  return seen;
}

describe('the DSM limits', () => {
  it('are 1 GiB for a region with either DSM, refused past it with the same DsmError', () => {
    expect(USER_DSM_MAX_BYTES).toBe(MAX_DSM_BYTES);
    expect(MAX_DSM_BYTES).toBe(2 ** 30);
    for (const impl of ['kernel', 'user'] as const) expect(attempts(impl, [])[0], impl).toBe(`dsm: a region is 1 byte to ${2 ** 30} bytes, got ${2 ** 30 + 1}`);
  });

  it('take lock ids 0 to 2^31-1 in the kernel DSM and 0 to 65535 in the user DSM', () => {
    expect(MAX_LOCK_ID).toBe(2 ** 31 - 1);
    expect(USER_DSM_LOCKS).toBe(65536);
    expect(attempts('kernel', [0, 65536, 2 ** 31 - 1, 2 ** 31])).toEqual([
      expect.any(String),
      'lock 0: ok',
      'lock 65536: ok',
      `lock ${2 ** 31 - 1}: ok`,
      `lock ${2 ** 31}: dsm: lock(${2 ** 31}) failed: EINVAL (lock ids are 0 to 2^31-1)`,
    ]);
    expect(attempts('user', [0, 65535, 65536])).toEqual([expect.any(String), 'lock 0: ok', 'lock 65535: ok', 'lock 65536: dsm: lock ids are 0 to 65535, got 65536']);
  });
});
