// Kernel DSM: a rank that never enters dsm_create (it returns, is killed,
// or is refused early because its node still holds the job's previous
// region) must not leave the others waiting in the collective: rank 0's node
// asks the nodes of the ranks it has not heard from to tell it if they end
// first (expect), the exit path tells it (join 'gone'), and an early refusal
// is announced too, so the create ends with the same -errno on every rank.
// And a create that never completed leaves no frames behind.
import { describe, expect, it } from 'vitest';
import { ERRNO, SYS } from '../../userland/lib/abi.gen.ts';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

describe('kernel dsm_create when a rank never joins', () => {
  it('ends rank 0\'s create with -ESRCH when rank 1 returns without calling dsm_create', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-no-join', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      if (rank === 1) return 0; // leaves before the collective
      yield* env.sys.publish('create', yield* env.sys.raw(SYS.dsm_create, 4096));
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1], []);
    const stop = sys.run({ done: () => sys.jobDone(job), until: 5e12 }); // 5 simulated seconds
    expect(job.ranks[1].process!.alive).toBe(false);
    expect(job.ranks[0].process!.results.get('create')).toBe(-ERRNO.ESRCH);
    expect(stop.kind).toBe('done');
  });

  it('ends rank 0\'s create with -ESRCH when rank 1 is killed before it calls dsm_create', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-no-join-killed', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      if (rank === 1) yield* env.compute(1e12);
      yield* env.sys.publish('create', yield* env.sys.raw(SYS.dsm_create, 4096));
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1], []);
    sys.run({ done: () => false, until: 1e9 });
    sys.kernel(1).killProcess(job.ranks[1].process!, 137, 'killed by the test');
    const stop = sys.run({ done: () => sys.jobDone(job), until: 5e12 });
    expect(job.ranks[0].process!.results.get('create')).toBe(-ERRNO.ESRCH);
    expect(stop.kind).toBe('done');
  });

  it('frees every node\'s frames when rank 0 is killed while waiting in dsm_create', () => {
    const sys = boot({ nodes: 2, trace: false });
    const MiB64 = 64 * 1024 * 1024;
    const prog = program('dsm-rank0-killed', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      if (rank === 1) yield* env.compute(2e9); // rank 1 joins late
      yield* env.sys.publish('create', yield* env.sys.raw(SYS.dsm_create, MiB64));
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1], []);
    sys.run({ done: () => sys.kernel(0).dsm.creating.size === 1, until: 1e12 });
    sys.kernel(0).killProcess(job.ranks[0].process!, 137, 'killed by the test');
    const stop = sys.run({ done: () => sys.jobDone(job), until: 5e12 });
    expect(stop.kind).toBe('done');
    expect(job.ranks[1].process!.results.get('create')).toBe(-ERRNO.ESRCH);
    // Both processes are gone; no node should still hold the job's region.
    expect(sys.kernel(1).dsm.regions.size).toBe(0);
    expect(sys.kernel(0).dsm.regions.size).toBe(0);
  });

  it('gives every rank -EBUSY when one rank\'s node still holds the previous region', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-recreate', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 4096);
      yield* env.sys.raw(SYS.dsm_attach);
      yield* env.sys.raw(SYS.dsm_barrier);
      if (rank === 1) yield* env.compute(100_000); // rank 0 detaches first, rank 1's release arrives later
      yield* env.sys.raw(SYS.dsm_detach);
      if (rank === 0) yield* env.compute(100_000);
      // Create a second region: collective, both ranks call it.
      yield* env.sys.publish('again', yield* env.sys.raw(SYS.dsm_create, 4096));
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1], []);
    const stop = sys.run({ done: () => sys.jobDone(job), until: 5e12 });
    const r = job.ranks.map((x) => x.process!.results.get('again'));
    expect(r).toEqual([-ERRNO.EBUSY, -ERRNO.EBUSY]); // the same answer on every rank
    expect(stop.kind).toBe('done');
  });

  it('tells rank 0 of a program using openDsm why its create failed when rank 1 returns first', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-open-no-join', function* (env) {
      if ((yield* env.sys.getrank()) === 1) return 0;
      yield* openDsm(env, 'kernel', 4096);
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1], []);
    expect(sys.run({ done: () => sys.jobDone(job), until: 5e12 }).kind).toBe('done');
    expect(job.ranks[0].process!.exitReason).toMatch(/dsm_create\(4096\) failed: ESRCH \(a rank of the job ended before it created its part/);
  });
});
