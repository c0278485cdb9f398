// A rank that leaves the job early (returns, is killed, or detaches) while
// the others still use the region: they are released with -ESRCH naming the
// rank instead of waiting for ever, and the pages it held stay readable.

import { describe, expect, it } from 'vitest';
import { ERRNO, SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';
import { runJob } from './helpers.ts';

describe('a kernel DSM rank that leaves early', () => {
  it('releases the ranks waiting at a barrier it never enters with -ESRCH (it returned, or was killed)', () => {
    for (const how of ['returns', 'killed'] as const) {
      const sys = boot({ nodes: 3, trace: false });
      const prog = program('dsm-leave-barrier', function* (env) {
        const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
        yield* env.sys.raw(SYS.dsm_create, 4096);
        yield* env.sys.raw(SYS.dsm_attach);
        if (rank === 2) {
          if (how === 'killed') yield* env.compute(1e12);
          return 0;
        }
        yield* env.compute(1_000_000);
        yield* env.sys.publish('barrier', yield* env.sys.raw(SYS.dsm_barrier));
        // A later barrier is refused at once too.
        yield* env.sys.publish('again', yield* env.sys.raw(SYS.dsm_barrier));
        return 0;
      });
      const job = sys.launchDirect(prog, [0, 1, 2], []);
      const procs = () => job.ranks.map((r) => r.process!);
      if (how === 'killed') {
        // Both others wait in the barrier when rank 2 is killed.
        const waiting = () => [...sys.kernel(0).dsm.regions.values()][0]?.arrivals.get(1)?.size === 2;
        expect(sys.run({ done: waiting, until: 1e12 }).kind).toBe('done');
        sys.kernel(2).killProcess(procs()[2], 137, 'killed by the test');
      }
      expect(sys.run({ done: () => sys.jobDone(job), until: 1e12 }).kind).toBe('done');
      for (const p of procs().slice(0, 2)) {
        expect(p.results.get('barrier')).toBe(-ERRNO.ESRCH);
        expect(p.results.get('again')).toBe(-ERRNO.ESRCH);
      }
    }
  });

  it('still completes a barrier that the leaving rank entered before it was killed, then refuses the next', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-leave-after-arrive', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 4096);
      yield* env.sys.raw(SYS.dsm_attach);
      if (rank === 1) {
        yield* env.sys.raw(SYS.dsm_barrier);
        return 0;
      }
      yield* env.compute(5_000_000);
      yield* env.sys.publish('first', yield* env.sys.raw(SYS.dsm_barrier));
      yield* env.sys.publish('second', yield* env.sys.raw(SYS.dsm_barrier));
      return 0;
    });
    const { job, stop } = runJob(sys, prog, 2, undefined, 1e12);
    expect(stop.kind).toBe('done');
    const p0 = job.ranks[0].process!;
    expect(p0.results.get('first')).toBe(0);
    expect(p0.results.get('second')).toBe(-ERRNO.ESRCH);
  });

  it('refuses a lock whose holder ended inside its critical section with -ESRCH, to the waiter and to later requests', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsm-leave-lock', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 4096);
      yield* env.sys.raw(SYS.dsm_attach);
      yield* env.sys.raw(SYS.dsm_barrier);
      if (rank === 1) {
        yield* env.sys.raw(SYS.dsm_lock, 5);
        yield* env.compute(3_000_000);
        return 0; // ends holding lock 5
      }
      yield* env.compute(rank === 0 ? 1_000_000 : 20_000_000);
      yield* env.sys.publish('lock', yield* env.sys.raw(SYS.dsm_lock, 5));
      // Other locks still work.
      yield* env.sys.publish('other', yield* env.sys.raw(SYS.dsm_lock, 6 + rank));
      return 0;
    });
    const { job, stop } = runJob(sys, prog, 3, undefined, 1e12);
    expect(stop.kind).toBe('done');
    for (const i of [0, 2]) {
      expect(job.ranks[i].process!.results.get('lock')).toBe(-ERRNO.ESRCH);
      expect(job.ranks[i].process!.results.get('other')).toBe(0);
    }
  });

  it('hands on a lock released by dsm_detach (an orderly leave), not breaking it', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-detach-lock', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 4096);
      yield* env.sys.raw(SYS.dsm_attach);
      yield* env.sys.raw(SYS.dsm_barrier);
      if (rank === 1) {
        yield* env.sys.raw(SYS.dsm_lock, 1);
        yield* env.sys.raw(SYS.dsm_detach);
        return 0;
      }
      yield* env.compute(3_000_000);
      yield* env.sys.publish('lock', yield* env.sys.raw(SYS.dsm_lock, 1));
      return 0;
    });
    const { job } = runJob(sys, prog, 2, undefined, 1e12);
    expect(job.ranks[0].process!.results.get('lock')).toBe(0);
  });

  it('serves a page whose only copy was on a rank that exited normally', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsm-leave-page', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 3 * 4096);
      const base = yield* env.sys.raw(SYS.dsm_attach);
      if (rank === 2) {
        // Rank 2 becomes the only holder of page 0 and 1, then exits.
        yield* env.mem.storeU64(base, 41n);
        yield* env.mem.storeU64(base + 4096, 42n);
        return 0;
      }
      yield* env.compute(20_000_000);
      yield* env.sys.publish('p0', Number(yield* env.mem.loadU64(base + (rank === 0 ? 0 : 4096))));
      return 0;
    });
    const { job, stop } = runJob(sys, prog, 3, undefined, 1e12);
    expect(stop.kind).toBe('done');
    expect(job.ranks[0].process!.results.get('p0')).toBe(41);
    expect(job.ranks[1].process!.results.get('p0')).toBe(42);
    expect(job.ranks[0].process!.exitStatus).toBe(0);
  });
});

describe('a kernel DSM requester that ends while its page is on the way', () => {
  it('does not hold up the page: the manager gets the confirm and serves the next request', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsm-requester-dies', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 3 * 4096);
      const base = yield* env.sys.raw(SYS.dsm_attach);
      if (rank === 0) yield* env.mem.storeU64(base, 77n);
      yield* env.sys.raw(SYS.dsm_barrier);
      if (rank === 2) {
        yield* env.mem.storeU64(base, 78n); // write fault: the page moves from rank 0 to rank 2
        yield* env.compute(1e12);
      }
      yield* env.compute(10_000_000);
      if (rank === 1) yield* env.sys.publish('value', Number(yield* env.mem.loadU64(base)));
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 2], []);
    const n2 = sys.kernel(2).dsm;
    let landing = false;
    const expectRx = n2.expectRx.bind(n2);
    n2.expectRx = (...a: Parameters<typeof n2.expectRx>) => {
      landing = true;
      expectRx(...a);
    };
    expect(sys.run({ done: () => landing, until: 1e12 }).kind).toBe('done');
    sys.kernel(2).killProcess(job.ranks[2].process!, 137, 'killed by the test');
    expect(sys.run({ done: () => sys.jobDone(job), until: sys.now + 1e12 }).kind).toBe('done');
    // Rank 2's write never ran (it was killed before the page landed): rank 1 reads rank 0's value.
    expect(job.ranks[1].process!.results.get('value')).toBe(77);
  });
});
