// dsm_fault: the fault service time, measured. Two ranks (more take part
// only in the barriers); rank 1 manages and first owns the odd pages, rank 0
// faults on them, one fault per page, `pages` pages per kind:
//   read_fault_ns   rank 1 owns the page read-write; rank 0 reads it
//                   (rank 1 is downgraded, the page is copied to rank 0);
//   write_fault_ns  both hold it read-only; rank 0 writes (rank 1's copy is
//                   invalidated, rank 0 upgrades without data);
//   fetch_fault_ns  rank 1 owns it read-write again; rank 0 writes (the
//                   page moves, rank 1's copy is invalidated).
// Meanwhile rank 1 runs `busy` threads that compute without pause (0: rank
// 1 is idle; its cores' count: every core busy) -- the seed's
// responsiveness argument: who serves rank 0's request on a busy node?
// Rank 0 also publishes the DSM system calls and crossings per fault on
// each side (faulter_syscalls_per_fault, server_syscalls_per_fault, ...).
// Usage: margay run dsm_fault --nodes 2 -- kernel|user [thread|poll] [pages=N] [busy=N]

import { dsmApp } from '../lib/dsm/appkit.ts';
import type { U } from '../lib/ops.ts';

const PAGE = 4096;

export default dsmApp('dsm_fault', {
  minRanks: 2,
  params: {
    pages: { def: 8, min: 1, max: 1024, doc: 'faults of each kind' },
    busy: { def: 0, min: 0, max: 16, doc: 'threads computing on rank 1 meanwhile' },
  },
  bytes: (p) => 2 * p.pages * PAGE,
  *body({ env, dsm, p, rank, args }) {
    const { mem, sys } = env;
    const page = (i: number) => dsm.base + (2 * i + 1) * PAGE; // odd pages: managed by rank 1 on 2 ranks
    const stop = { now: false };
    const workers = [];
    if (rank === 1) {
      for (let i = 0; i < p.busy; i++) {
        workers.push(
          yield* env.spawn(function* (t) {
            while (!stop.now) yield* t.compute(100_000);
          }),
        );
      }
    }
    // Counts are taken around the faults on rank 0, and around the closing barrier on rank 1
    // (less what a barrier alone costs it, measured first with no faults).
    let barrierSyscalls = 0;
    let barrierCrossings = 0;
    const phase = function* (owner: () => U, fault: (va: number) => U, n = p.pages) {
      if (rank === 1) yield* owner();
      yield* dsm.barrier();
      const s0 = yield* dsm.stats();
      let ns = 0;
      let s1 = s0;
      if (rank === 0) {
        const t0 = yield* sys.clockNs();
        for (let i = 0; i < n; i++) yield* fault(page(i));
        ns = ((yield* sys.clockNs()) - t0) / Math.max(1, n);
        s1 = yield* dsm.stats();
      }
      yield* dsm.barrier();
      if (rank !== 0) s1 = yield* dsm.stats();
      const less = rank === 0 ? [0, 0] : [barrierSyscalls, barrierCrossings];
      return { ns, syscalls: (s1.syscalls - s0.syscalls - less[0]) / Math.max(1, n), crossings: (s1.crossings - s0.crossings - less[1]) / Math.max(1, n) };
    };
    const nothing = function* () {};
    const ownAll = function* (): U {
      for (let i = 0; i < p.pages; i++) yield* mem.storeU64(page(i), BigInt(i + 1));
    };
    const touch = function* (va: number, write: boolean): U {
      if (write) yield* mem.storeU64(va + 8, 7n);
      else yield* mem.loadU64(va);
    };
    const results: Record<string, { ns: number; syscalls: number; crossings: number }> = {};
    const idle = yield* phase(nothing, nothing, 0);
    barrierSyscalls = idle.syscalls;
    barrierCrossings = idle.crossings;
    results.read = yield* phase(ownAll, (va) => touch(va, false));
    // Rank 1 reads its pages back (one copy each side); rank 0 writes: an upgrade with an invalidation.
    results.write = yield* phase(
      function* (): U {
        for (let i = 0; i < p.pages; i++) yield* mem.loadU64(page(i));
      },
      (va) => touch(va, true),
    );
    results.fetch = yield* phase(ownAll, (va) => touch(va, true));
    stop.now = true;
    for (const w of workers) yield* env.join(w);
    // The server's counts reach rank 0 through the region itself (after the measured phases).
    const box = dsm.base;
    if (rank === 1) {
      for (const [i, k] of ['read', 'write', 'fetch'].entries()) {
        yield* mem.storeF64(box + 8 * i, results[k].syscalls);
        yield* mem.storeF64(box + 64 + 8 * i, results[k].crossings);
      }
    }
    yield* dsm.barrier();
    if (rank === 0) {
      for (const [i, k] of ['read', 'write', 'fetch'].entries()) {
        yield* sys.publish(`${k}_fault_ns`, Math.round(results[k].ns));
        yield* sys.publish(`${k}_faulter_syscalls_per_fault`, results[k].syscalls);
        yield* sys.publish(`${k}_faulter_crossings_per_fault`, results[k].crossings);
        yield* sys.publish(`${k}_server_syscalls_per_fault`, yield* mem.loadF64(box + 8 * i));
        yield* sys.publish(`${k}_server_crossings_per_fault`, yield* mem.loadF64(box + 64 + 8 * i));
      }
      yield* sys.print(`dsm_fault (${args.label} DSM): read ${Math.round(results.read.ns)} ns, write (invalidate) ${Math.round(results.write.ns)} ns, write (fetch) ${Math.round(results.fetch.ns)} ns per fault; rank 1 busy with ${p.busy} thread(s)\n`);
    }
    return 0;
  },
});
