// dsm_counter: the lock-heavy shared counter. Every rank adds 1 to one
// shared counter `increments` times, each under the DSM's global lock 0,
// with `work` cycles of computation between increments. Rank 0 publishes
// counter (must be ranks x increments), ns_per_increment (the run's time
// over all increments) and time_ns.
// Usage: margay run dsm_counter --nodes N -- kernel|user [thread|poll] [increments=N] [work=N]

import { dsmApp } from '../lib/dsm/appkit.ts';

export default dsmApp('dsm_counter', {
  params: {
    increments: { def: 20, min: 1, max: 100_000, doc: 'increments per rank' },
    work: { def: 2000, min: 0, max: 1e9, doc: 'cycles of work between increments' },
  },
  bytes: () => 4096,
  *body({ env, dsm, p, rank, size, args }) {
    const counter = dsm.base;
    yield* dsm.barrier();
    const t0 = yield* env.sys.clockNs();
    for (let i = 0; i < p.increments; i++) {
      yield* dsm.lock(0);
      yield* env.mem.storeU64(counter, (yield* env.mem.loadU64(counter)) + 1n);
      yield* dsm.unlock(0);
      if (p.work > 0) yield* env.compute(p.work);
    }
    yield* dsm.barrier();
    if (rank === 0) {
      const t = (yield* env.sys.clockNs()) - t0;
      const v = Number(yield* env.mem.loadU64(counter));
      yield* env.sys.publish('counter', v);
      yield* env.sys.publish('time_ns', t);
      yield* env.sys.publish('ns_per_increment', Math.round(t / (size * p.increments)));
      yield* env.sys.print(`dsm_counter (${args.label} DSM): ${v} (expected ${size * p.increments}), ${Math.round(t / (size * p.increments))} ns per increment\n`);
      if (v !== size * p.increments) return 1;
    }
    return 0;
  },
});
