// A whole node that goes down in the middle of the protocol, at a moment
// when nobody sends it anything (so no undeliverable message tells the
// others): after it received a page but before it confirmed, while it holds a
// lock others wait for, while the others wait for it at a barrier. The
// kernels probe what is overdue; every waiter ends within bounded simulated
// time (the page's later requesters killed naming the page and the node, the
// lock's and the barrier's waiters released with -ESRCH), never hangs.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERRNO, SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { PROBE_PS } from '../../kernel/dsm/watch.ts';
import type { System } from '../../system/system.ts';
import { boot } from '../kernel/helpers.ts';

/** Takes node `nid` down (the network no longer delivers to or from it) with its rank's process. */
function nodeDown(sys: System, nid: number, p: import('../../kernel/process.ts').Process): void {
  sys.machine.network.setNodeDown(nid, true);
  sys.kernel(nid).killProcess(p, 137, `node ${nid} went down`);
}

/** Long enough for a few probe rounds, and far less than forever. */
const BOUND = 20 * PROBE_PS;

describe('a DSM node that goes down while nobody sends it anything', () => {
  it('lets the page it received but never confirmed go: its later requesters are killed naming the page and the node', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsm-down-unconfirmed', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 3 * 4096);
      const base = yield* env.sys.raw(SYS.dsm_attach);
      if (rank === 1) yield* env.mem.storeU64(base, 5n); // rank 1 owns page 0 (managed by rank 0)
      yield* env.sys.raw(SYS.dsm_barrier);
      if (rank === 2) {
        yield* env.mem.storeU64(base, 6n); // write fault: the page moves from rank 1 to rank 2
        yield* env.compute(1e12);
      }
      yield* env.compute(10_000_000);
      yield* env.sys.publish('value', Number(yield* env.mem.loadU64(base)));
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
    // The page is on its way into node 2, which goes down before its confirm can leave.
    nodeDown(sys, 2, job.ranks[2].process!);
    expect(sys.run({ done: () => sys.jobDone(job), until: sys.now + BOUND }).kind).toBe('done');
    for (const i of [0, 1]) {
      const p = job.ranks[i].process!;
      expect(p.results.has('value')).toBe(false);
      expect(p.exitStatus).toBe(135);
      expect(p.exitReason).toBe('dsm: page 0 (0x200000000000) is lost: node 2, which held it, is down');
    }
  });

  it('gives a rank that asked for a read copy the page when the unconfirmed reader went down (the owner kept its copy)', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsm-down-unconfirmed-read', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 3 * 4096);
      const base = yield* env.sys.raw(SYS.dsm_attach);
      if (rank === 1) yield* env.mem.storeU64(base, 5n);
      yield* env.sys.raw(SYS.dsm_barrier);
      if (rank === 2) {
        yield* env.mem.loadU64(base); // read fault: a copy comes from rank 1
        yield* env.compute(1e12);
      }
      yield* env.compute(10_000_000);
      yield* env.sys.publish('value', Number(yield* env.mem.loadU64(base)));
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
    nodeDown(sys, 2, job.ranks[2].process!);
    expect(sys.run({ done: () => sys.jobDone(job), until: sys.now + BOUND }).kind).toBe('done');
    for (const i of [0, 1]) {
      expect(job.ranks[i].process!.exitStatus).toBe(0);
      expect(job.ranks[i].process!.results.get('value')).toBe(5);
    }
  });

  it('refuses a lock whose holder went down with its node with -ESRCH, to the waiter and to later requests', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsm-down-lock', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 4096);
      yield* env.sys.raw(SYS.dsm_attach);
      yield* env.sys.raw(SYS.dsm_barrier);
      if (rank === 2) {
        yield* env.sys.raw(SYS.dsm_lock, 1); // lock 1 is managed by rank 1
        yield* env.sys.publish('holding', 1);
        yield* env.compute(1e12);
      }
      yield* env.compute(rank === 0 ? 2_000_000 : 50_000_000);
      yield* env.sys.publish('lock', yield* env.sys.raw(SYS.dsm_lock, 1));
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 2], []);
    const waiting = () => [...sys.kernel(1).dsm.regions.values()][0]?.locks.get(1)?.queue.length === 1;
    expect(sys.run({ done: waiting, until: 1e12 }).kind).toBe('done');
    nodeDown(sys, 2, job.ranks[2].process!);
    expect(sys.run({ done: () => sys.jobDone(job), until: sys.now + BOUND }).kind).toBe('done');
    for (const i of [0, 1]) {
      expect(job.ranks[i].process!.results.get('lock')).toBe(-ERRNO.ESRCH);
      expect(job.ranks[i].process!.exitStatus).toBe(0);
    }
  });

  it('releases the ranks waiting at a barrier for a rank whose node went down with -ESRCH, and frees their frames', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsm-down-barrier', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 4096);
      yield* env.sys.raw(SYS.dsm_attach);
      if (rank === 2) yield* env.compute(1e12);
      yield* env.sys.publish('barrier', yield* env.sys.raw(SYS.dsm_barrier));
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 2], []);
    const waiting = () => [...sys.kernel(0).dsm.regions.values()][0]?.arrivals.get(1)?.size === 2;
    expect(sys.run({ done: waiting, until: 1e12 }).kind).toBe('done');
    nodeDown(sys, 2, job.ranks[2].process!);
    expect(sys.run({ done: () => sys.jobDone(job), until: sys.now + BOUND }).kind).toBe('done');
    for (const i of [0, 1]) expect(job.ranks[i].process!.results.get('barrier')).toBe(-ERRNO.ESRCH);
    // The survivors' frames are freed: rank 0 counted the down node's rank gone, so the last detach releases them.
    expect(sys.run({ done: () => sys.kernel(0).dsm.regions.size === 0 && sys.kernel(1).dsm.regions.size === 0, until: sys.now + BOUND }).kind).toBe('done');
    // And the probe timer stops with the last region.
    for (const nid of [0, 1]) expect(sys.kernel(nid).timer(0).pending.some((d) => d.kind === 'dsm-probe')).toBe(false);
  });

  it('kills a rank waiting for a lock whose managing node went down after it took the request', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsm-down-lock-manager', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 4096);
      yield* env.sys.raw(SYS.dsm_attach);
      yield* env.sys.raw(SYS.dsm_barrier);
      if (rank === 1) yield* env.sys.raw(SYS.dsm_lock, 2); // lock 2 is managed by rank 2
      else if (rank === 0) {
        yield* env.compute(2_000_000);
        yield* env.sys.raw(SYS.dsm_lock, 2);
      }
      yield* env.compute(1e12);
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 2], []);
    const waiting = () => [...sys.kernel(2).dsm.regions.values()][0]?.locks.get(2)?.queue.length === 1;
    expect(sys.run({ done: waiting, until: 1e12 }).kind).toBe('done');
    nodeDown(sys, 2, job.ranks[2].process!);
    const p0 = job.ranks[0].process!;
    expect(sys.run({ done: () => !p0.alive, until: sys.now + BOUND }).kind).toBe('done');
    expect(p0.exitStatus).toBe(135);
    expect(p0.exitReason).toBe('dsm: lock 2 cannot be granted: node 2, its manager, is down');
  });

  it('kills the ranks waiting at a barrier whose counting node (rank 0) went down after they arrived', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsm-down-barrier-home', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 4096);
      yield* env.sys.raw(SYS.dsm_attach);
      if (rank === 0) yield* env.compute(1e12);
      yield* env.sys.raw(SYS.dsm_barrier);
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 2], []);
    const waiting = () => [...sys.kernel(0).dsm.regions.values()][0]?.arrivals.get(1)?.size === 2;
    expect(sys.run({ done: waiting, until: 1e12 }).kind).toBe('done');
    nodeDown(sys, 0, job.ranks[0].process!);
    expect(sys.run({ done: () => sys.jobDone(job), until: sys.now + BOUND }).kind).toBe('done');
    for (const i of [1, 2]) {
      expect(job.ranks[i].process!.exitStatus).toBe(135);
      expect(job.ranks[i].process!.exitReason).toBe('dsm: barrier 1 cannot complete: node 0 (rank 0) is down');
    }
  });
});

describe('a DSM create whose rank 0 node goes down', () => {
  it('ends the other ranks\' dsm_create with -ESRCH instead of waiting for its count', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsm-down-create', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      if (rank === 0) yield* env.compute(1e12);
      yield* env.sys.publish('create', yield* env.sys.raw(SYS.dsm_create, 4096));
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 2], []);
    const waiting = () => sys.kernel(1).dsm.creating.size === 1 && sys.kernel(2).dsm.creating.size === 1;
    expect(sys.run({ done: waiting, until: 1e12 }).kind).toBe('done');
    nodeDown(sys, 0, job.ranks[0].process!);
    expect(sys.run({ done: () => sys.jobDone(job), until: sys.now + BOUND }).kind).toBe('done');
    for (const i of [1, 2]) expect(job.ranks[i].process!.results.get('create')).toBe(-ERRNO.ESRCH);
  });

  it('ends every other rank\'s dsm_create with -ESRCH when a rank\'s node goes down before it announced its part', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsm-down-create-rank', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      if (rank === 2) yield* env.compute(1e12);
      yield* env.sys.publish('create', yield* env.sys.raw(SYS.dsm_create, 4096));
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 2], []);
    const waiting = () => sys.kernel(0).dsm.creating.size === 1 && sys.kernel(1).dsm.creating.size === 1;
    expect(sys.run({ done: waiting, until: 1e12 }).kind).toBe('done');
    nodeDown(sys, 2, job.ranks[2].process!);
    expect(sys.run({ done: () => sys.jobDone(job), until: sys.now + BOUND }).kind).toBe('done');
    for (const i of [0, 1]) expect(job.ranks[i].process!.results.get('create')).toBe(-ERRNO.ESRCH);
  });
});

type Op = { kind: 'read' | 'write'; page: number } | { kind: 'locked'; lock: number; page: number } | { kind: 'compute'; cycles: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('read' as const), page: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('write' as const), page: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('locked' as const), lock: fc.integer({ min: 0, max: 2 }), page: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('compute' as const), cycles: fc.integer({ min: 1, max: 200_000 }) }),
);

describe('a DSM node that goes down at a random moment', () => {
  it('never leaves a survivor waiting: each ends normally or is killed naming the DSM, within bounded time (random programs)', () => {
    let killed = 0;
    fc.assert(
      fc.property(fc.array(fc.array(opArb, { minLength: 5, maxLength: 25 }), { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 400 }), (plans, victim, atUs) => {
        const sys = boot({ nodes: 3, trace: false });
        const prog = program('dsm-down-random', function* (env) {
          const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
          // A create the down node takes part in ends with an error: the rank says so (exit 3).
          if ((yield* env.sys.raw(SYS.dsm_create, 4 * 4096)) < 0) return 3;
          const base = yield* env.sys.raw(SYS.dsm_attach);
          if (base < 0) return 3;
          yield* env.sys.raw(SYS.dsm_barrier);
          for (const op of plans[rank]) {
            if (op.kind === 'compute') yield* env.compute(op.cycles);
            else if (op.kind === 'read') yield* env.mem.loadU64(base + op.page * 4096);
            else if (op.kind === 'write') yield* env.mem.storeU64(base + op.page * 4096, BigInt(rank + 1));
            else if (op.kind === 'locked' && (yield* env.sys.raw(SYS.dsm_lock, op.lock)) === 0) {
              yield* env.mem.storeU64(base + op.page * 4096 + 8, BigInt(rank + 1));
              yield* env.sys.raw(SYS.dsm_unlock, op.lock);
            }
          }
          yield* env.sys.raw(SYS.dsm_barrier);
          return 0;
        });
        const job = sys.launchDirect(prog, [0, 1, 2], []);
        sys.run({ done: () => sys.jobDone(job), until: atUs * 1e6 });
        const v = job.ranks[victim].process!;
        if (v.alive) nodeDown(sys, victim, v);
        expect(sys.run({ done: () => sys.jobDone(job), until: sys.now + BOUND }).kind).toBe('done');
        for (const [i, rk] of job.ranks.entries()) {
          if (i === victim) continue;
          const p = rk.process!;
          if (p.exitStatus === 3) continue;
          if (p.exitStatus !== 0) {
            expect(p.exitStatus, p.exitReason ?? '').toBe(135);
            expect(p.exitReason).toMatch(/^dsm: /);
            killed++;
          }
        }
      }),
      { seed: 1515, numRuns: 40 },
    );
    // The moments chosen do hit the protocol mid-way, not only before or after it.
    expect(killed).toBeGreaterThan(0);
  });
});
