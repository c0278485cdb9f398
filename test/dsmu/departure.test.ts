// A rank that leaves the job early under the user DSM (returns or is killed
// without detaching): the ranks that then wait for it -- at a barrier, for a
// lock it holds, for a page only it had -- end with an error naming it, found
// by probing it within a fraction of a second, instead of waiting for ever or
// being cut by the run's time limit.

import { describe, expect, it } from 'vitest';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';
import type { Env } from '../../userland/lib/runtime.ts';
import type { Dsm } from '../../userland/lib/dsm/api.ts';
import type { U } from '../../userland/lib/ops.ts';

/** Runs a 3-rank user-DSM job whose rank 2 does `leaver` and then returns; the others do `stayer`. */
function leave(name: string, leaver: (env: Env, dsm: Dsm) => U, stayer: (env: Env, dsm: Dsm) => U, mode: 'thread' | 'poll' = 'thread') {
  const sys = boot({ nodes: 3, trace: false });
  const prog = program(name, function* (env) {
    const rank = yield* env.sys.getrank();
    const dsm = yield* openDsm(env, 'user', 3 * 4096, { mode });
    yield* dsm.barrier();
    if (rank === 2) {
      yield* leaver(env, dsm);
      return 0;
    }
    yield* env.compute(2_000_000);
    yield* stayer(env, dsm);
    yield* env.sys.publish('survived', 1);
    return 0;
  });
  const job = sys.launchDirect(prog, [0, 1, 2], []);
  const stop = sys.run({ done: () => sys.jobDone(job), until: 20e12 });
  return { stop, procs: job.ranks.map((r) => r.process!) };
}

describe('a user-DSM rank that leaves early', () => {
  for (const mode of ['thread', 'poll'] as const) {
    it(`ends the ranks waiting at a barrier it never enters, naming it (${mode})`, () => {
      const { stop, procs } = leave('dsmu-leave-barrier', function* () {}, function* (_env, dsm) {
        yield* dsm.barrier();
      }, mode);
      expect(stop.kind).toBe('done');
      for (const p of procs.slice(0, 2)) {
        expect(p.results.has('survived')).toBe(false);
        expect(p.exitReason).toMatch(/waited for the barrier \(asked of rank 0\), but rank 2 has ended \(its process is gone: it returned or was killed\): the shared region cannot go on$/);
        expect(p.endedAt).toBeLessThan(1e12);
      }
    }, 60_000);
  }

  it('ends a rank waiting for a lock the leaver held, naming it', () => {
    const { stop, procs } = leave('dsmu-leave-lock', function* (_env, dsm) {
      yield* dsm.lock(1); // lock 1 is managed by rank 1, held by rank 2 when it returns
    }, function* (_env, dsm) {
      yield* dsm.lock(1);
    });
    expect(stop.kind).toBe('done');
    expect(procs[0].exitReason).toMatch(/waited for lock 1 \(asked of rank 1\), but rank 2 has ended/);
    expect(procs[0].endedAt).toBeLessThan(1e12);
  }, 60_000);

  it('ends a rank that needs a page only the leaver held, naming it', () => {
    const { stop, procs } = leave('dsmu-leave-page', function* (env, dsm) {
      yield* env.mem.storeU64(dsm.base, 9n); // rank 2 now holds page 0 (managed by rank 0) alone
    }, function* (env, dsm) {
      yield* env.mem.loadU64(dsm.base);
    });
    expect(stop.kind).toBe('done');
    // The manager (rank 0), told by a waiter and checking for itself, answers every request for the page.
    for (const p of procs.slice(0, 2)) expect(p.exitReason).toMatch(/dsm: page 0 \(0x500000000000\) is lost: rank 2, which held it, has ended$/);
  }, 60_000);
});

describe('a user-DSM requester that ends while its page is on the way', () => {
  it('does not hold up the page: the manager, told by the next requester and checking for itself, serves it', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsmu-requester-dies', function* (env) {
      const rank = yield* env.sys.getrank();
      const dsm = yield* openDsm(env, 'user', 3 * 4096);
      if (rank === 0) yield* env.mem.storeU64(dsm.base, 77n);
      yield* dsm.barrier();
      if (rank === 2) {
        yield* env.sys.publish('asking', 1);
        yield* env.mem.loadU64(dsm.base); // a read of page 0 (manager and owner: rank 0)
        yield* env.compute(1e12);
      }
      yield* env.compute(2_000_000);
      if (rank === 1) yield* env.sys.publish('value', Number(yield* env.mem.loadU64(dsm.base)));
      yield* env.compute(1e9);
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 2], []);
    const p2 = () => job.ranks[2].process!;
    expect(sys.run({ done: () => p2()?.results.has('asking') ?? false, until: 1e12 }).kind).toBe('done');
    // Its request is out; the page (and the ACK that would end the transaction) is not back yet.
    sys.run({ done: () => false, until: sys.now + 6_000_000 });
    sys.kernel(2).killProcess(p2(), 137, 'killed by the test');
    expect(sys.run({ done: () => sys.jobDone(job), until: sys.now + 10e12 }).kind).toBe('done');
    const p1 = job.ranks[1].process!;
    expect([p1.exitReason, p1.results.get('value')]).toEqual([null, 77]);
  }, 60_000);
});
