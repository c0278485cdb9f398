// dsm_falseshare: the false-sharing microbenchmark. Phase 1: every rank
// writes its own 8-byte word `writes` times, all the words on one page (the
// page ping-pongs between the writers). Phase 2: the same with each rank's
// word on a page of its own. Rank 0 publishes shared_ns_per_write,
// padded_ns_per_write and slowdown_x100 (their ratio x 100).
// Usage: margay run dsm_falseshare --nodes N -- kernel|user [thread|poll] [writes=N] [work=N]

import { dsmApp } from '../lib/dsm/appkit.ts';

export default dsmApp('dsm_falseshare', {
  params: {
    writes: { def: 20, min: 1, max: 100_000, doc: 'writes per rank per phase' },
    work: { def: 50_000, min: 0, max: 1e9, doc: 'cycles of work between writes' },
  },
  bytes: (_p, size) => (1 + size) * 4096,
  *body({ env, dsm, p, rank, size, args }) {
    const phase = function* (va: number) {
      yield* dsm.barrier();
      const t0 = yield* env.sys.clockNs();
      for (let i = 0; i < p.writes; i++) {
        yield* env.mem.storeU64(va, BigInt(i + 1));
        if (p.work > 0) yield* env.compute(p.work);
      }
      yield* dsm.barrier();
      return ((yield* env.sys.clockNs()) - t0) / p.writes;
    };
    const shared = yield* phase(dsm.base + 8 * rank);
    const padded = yield* phase(dsm.base + 4096 * (1 + rank));
    if (rank === 0) {
      yield* env.sys.publish('shared_ns_per_write', Math.round(shared));
      yield* env.sys.publish('padded_ns_per_write', Math.round(padded));
      yield* env.sys.publish('slowdown_x100', Math.round((100 * shared) / padded));
      yield* env.sys.print(`dsm_falseshare (${args.label} DSM) on ${size} rank(s): ${shared.toFixed(0)} ns per write on one shared page, ${padded.toFixed(0)} ns on own pages\n`);
    }
    return 0;
  },
});
