// A shared counter in the kernel DSM: every rank adds 1 to a counter in the
// shared region `rounds` times under a global lock, then rank 0 checks the
// total. Run it: npx margay run ./examples/dsm/kernel-counter.ts --nodes 4
import { program } from 'margay/userland';
import { openDsm } from 'margay/userland/dsm/api';

export default program('kernel-counter', function* main(env) {
  const rounds = Number(env.argv[1] ?? 10);
  const rank = yield* env.sys.getrank();
  const size = yield* env.sys.getsize();
  // Every rank opens the region (a collective call); it is at the same address on every rank.
  const dsm = yield* openDsm(env, 'kernel', 4096);
  const counter = dsm.base; // 8 bytes at the start of the shared page
  for (let i = 0; i < rounds; i++) {
    yield* dsm.lock(0);
    const v = yield* env.mem.loadU64(counter); // a read fault brings the page here
    yield* env.mem.storeU64(counter, v + 1n); // a write fault invalidates the other copies
    yield* dsm.unlock(0);
  }
  yield* dsm.barrier();
  const stats = yield* dsm.stats();
  yield* env.sys.publish(`faults_rank${rank}`, stats.faults);
  if (rank === 0) {
    const total = Number(yield* env.mem.loadU64(counter));
    yield* env.sys.publish('total', total);
    yield* env.sys.print(`counter = ${total} (expected ${size * rounds}), rank 0 took ${stats.faults} faults\n`);
    if (total !== size * rounds) return 1;
  }
  yield* dsm.barrier();
  yield* dsm.detach();
  return 0;
});
