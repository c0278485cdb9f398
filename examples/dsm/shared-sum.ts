// Shared memory across the nodes of a job, with either DSM: every rank
// stores its number in the shared region, a barrier, then rank 0 adds the
// numbers up. Run it:
//   npx margay run ./examples/dsm/shared-sum.ts --nodes 4 -- kernel
//   npx margay run ./examples/dsm/shared-sum.ts --nodes 4 -- user
import { program } from 'margay/userland';
import { type DsmImpl, openDsm } from 'margay/userland/dsm/api';

export default program('shared-sum', function* main(env) {
  const impl = (env.argv[1] ?? 'kernel') as DsmImpl;
  const rank = yield* env.sys.getrank();
  const size = yield* env.sys.getsize();
  // Collective: every rank opens the region; it is at the same address everywhere.
  const dsm = yield* openDsm(env, impl, 4096);
  // Plain stores: the first one faults and the DSM brings the page here, writable.
  yield* env.mem.storeU64(dsm.base + 8 * rank, BigInt(rank + 1));
  yield* dsm.barrier();
  if (rank === 0) {
    let sum = 0n;
    for (let r = 0; r < size; r++) sum += yield* env.mem.loadU64(dsm.base + 8 * r);
    yield* env.sys.publish('sum', Number(sum));
    yield* env.sys.print(`sum = ${sum} (expected ${(size * (size + 1)) / 2}) with the ${impl} DSM\n`);
  }
  const s = yield* dsm.stats();
  yield* env.sys.publish('faults', s.faults);
  yield* env.sys.publish('dsm_syscalls', s.syscalls);
  yield* dsm.barrier(); // rank 0 has read every slot before anyone leaves
  yield* dsm.detach();
  return 0;
});
