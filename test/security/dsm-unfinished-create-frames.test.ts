// Kernel DSM: a create that never completes because rank 0 is killed while it
// waits in dsm_create leaves rank 0's node holding the region's frames for
// good (rank 0 counted itself 'detached', but the other ranks never had a
// region, so 'every rank detached' never came): up to 1 GiB per job, and a
// later job of ANOTHER user on that node could not get the memory. Now the
// process's end frees the frames of a create that never completed.
import { describe, expect, it } from 'vitest';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

const GiB = 2 ** 30;

const leaker = program('dsm-leaker', function* (env) {
  const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
  if (rank === 1) yield* env.compute(2e9); // rank 1 is late to the collective
  yield* env.sys.publish('create', yield* env.sys.raw(SYS.dsm_create, GiB));
  return 0;
});

const victim = program('dsm-victim', function* (env) {
  yield* env.sys.publish('create', yield* env.sys.raw(SYS.dsm_create, GiB));
  return 0;
});

function scenario(leak: boolean) {
  const sys = boot({ nodes: 2, trace: false });
  if (leak) {
    const a = sys.launchDirect(leaker, [0, 1], [], 1000);
    sys.run({ done: () => sys.kernel(0).dsm.creating.size === 1, until: 1e12 });
    sys.kernel(0).killProcess(a.ranks[0].process!, 137, 'killed (time limit, Ctrl-C, monitor kill ...)');
    expect(sys.run({ done: () => sys.jobDone(a), until: 5e12 }).kind).toBe('done');
  }
  const v = sys.launchDirect(victim, [0, 1], [], 2000); // another user
  expect(sys.run({ done: () => sys.jobDone(v), until: 5e12 }).kind).toBe('done');
  return { sys, v: v.ranks.map((r) => r.process!.results.get('create')) };
}

describe('frames of a create that never completed', () => {
  it('control: on a fresh machine another user gets a 1 GiB region', () => {
    expect(scenario(false).v).toEqual([0, 0]);
  });
  it('gives another user a 1 GiB region after a job whose rank 0 was killed in dsm_create', () => {
    const { v } = scenario(true);
    expect(v).toEqual([0, 0]);
  });
});
