// The cost of each kind of kernel DSM fault, measured: one page, four ranks,
// one fault at a time (barriers in between), each rank publishing the
// service time of its fault (from the fault to the retried access, as the
// kernel measures it). Run it: npx margay run ./examples/dsm/fault-anatomy.ts --nodes 4
import { program } from 'margay/userland';
import { openDsm, type Dsm } from 'margay/userland/dsm/api';
import type { Env } from 'margay/userland';

function* timed(env: Env, dsm: Dsm, name: string, access: () => Generator<unknown, unknown, unknown>) {
  const before = yield* dsm.stats();
  yield* access();
  const after = yield* dsm.stats();
  yield* env.sys.publish(`${name}_ns`, after.faultNs - before.faultNs);
  yield* env.sys.publish(`${name}_syscalls`, after.syscalls - before.syscalls); // dsm_stats is not counted
  yield* env.sys.publish(`${name}_faults`, after.faults - before.faults);
}

export default program('fault-anatomy', function* main(env) {
  const rank = yield* env.sys.getrank();
  if ((yield* env.sys.getsize()) < 4) {
    yield* env.sys.print('fault-anatomy needs 4 ranks (--nodes 4)\n', 2);
    return 2;
  }
  const dsm = yield* openDsm(env, 'kernel', 4096);
  const page = dsm.base;
  // 1. A read of a page nobody has touched: the manager (rank 0) grants it, no data moves.
  if (rank === 1) yield* timed(env, dsm, 'read_zero', () => env.mem.loadU64(page));
  yield* dsm.barrier();
  // 2. A write of a page another rank reads: its owner gives it up and sends it.
  if (rank === 2) yield* timed(env, dsm, 'write_remote', () => env.mem.storeU64(page, 1n));
  yield* dsm.barrier();
  // 3. A read of a page another rank writes: the writer is downgraded and sends a copy.
  if (rank === 3) yield* timed(env, dsm, 'read_remote', () => env.mem.loadU64(page));
  yield* dsm.barrier();
  if (rank === 1) yield* env.mem.loadU64(page);
  yield* dsm.barrier();
  // 4. A write by a reader while two others read: both copies are invalidated, then the upgrade is granted.
  if (rank === 3) yield* timed(env, dsm, 'write_upgrade_inv2', () => env.mem.storeU64(page, 2n));
  yield* dsm.barrier();
  return 0;
});
