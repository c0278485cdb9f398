// A node that dies holding a page: the processes that need the page (or
// whose manager died) are killed with a reason naming the page and the
// node; nobody waits for ever.

import { describe, expect, it } from 'vitest';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

describe('a DSM node that dies', () => {
  it('kills the ranks that need its pages, naming the page and the node, instead of hanging', () => {
    const sys = boot({ nodes: 3, trace: false });
    const prog = program('dsm-death', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 3 * 4096);
      const base = yield* env.sys.raw(SYS.dsm_attach);
      // Rank 2 becomes the owner (the only copy) of page 1, which rank 1 manages.
      if (rank === 2) yield* env.mem.storeU64(base + 4096, 7n);
      yield* env.sys.raw(SYS.dsm_barrier);
      yield* env.sys.publish('ready', 1);
      yield* env.compute(2_000_000);
      // Rank 0 needs page 1 (owner down); rank 1 needs page 2 (manager, rank 2, down).
      if (rank === 0) yield* env.mem.loadU64(base + 4096);
      if (rank === 1) yield* env.mem.loadU64(base + 2 * 4096);
      yield* env.sys.publish('survived', 1);
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1, 2], []);
    const procs = () => job.ranks.map((r) => r.process!);
    expect(sys.run({ done: () => procs().every((p) => p.results.has('ready')), until: 1e12 }).kind).toBe('done');
    // Node 2 goes down: its host stops and the network no longer delivers to or from it.
    sys.machine.network.setNodeDown(2, true);
    sys.kernel(2).killProcess(procs()[2], 137, 'node 2 went down');
    const stop = sys.run({ done: () => sys.jobDone(job), until: 10e12 });
    expect(stop.kind).toBe('done');
    const [p0, p1] = procs();
    expect(p0.results.has('survived')).toBe(false);
    expect(p0.exitStatus).toBe(135);
    expect(p0.exitReason).toMatch(/^dsm: page 1 \(0x200000001000\) is lost: node 2, which held it, is down$/);
    expect(p1.exitStatus).toBe(135);
    expect(p1.exitReason).toMatch(/^dsm: page 2 \(0x200000002000\) cannot be served: node 2, its manager, is down$/);
  });

  it('kills a rank waiting at a barrier whose counting node died', () => {
    const sys = boot({ nodes: 2, trace: false });
    const prog = program('dsm-death-barrier', function* (env) {
      const rank = Number(yield* env.sys.raw(SYS.lwk_getrank));
      yield* env.sys.raw(SYS.dsm_create, 4096);
      yield* env.sys.raw(SYS.dsm_attach);
      yield* env.sys.publish('ready', 1);
      if (rank === 1) {
        yield* env.compute(1_000_000);
        yield* env.sys.raw(SYS.dsm_barrier);
      } else yield* env.compute(1e12);
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1], []);
    const procs = () => job.ranks.map((r) => r.process!);
    sys.run({ done: () => procs().every((p) => p.results.has('ready')), until: 1e12 });
    sys.machine.network.setNodeDown(0, true);
    sys.kernel(0).killProcess(procs()[0], 137, 'node 0 went down');
    expect(sys.run({ done: () => sys.jobDone(job), until: 10e12 }).kind).toBe('done');
    expect(procs()[1].exitReason).toBe('dsm: barrier 1 cannot complete: node 0 (rank 0) is down');
  });
});
