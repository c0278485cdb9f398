// allreduce: a global sum at user level over a binomial tree of Portals
// puts. Rank r contributes r + 1; partial sums go up the tree to rank 0 and
// the total comes back down, so every rank ends with N(N+1)/2 and checks it.
// Rank 0 publishes allreduce_ns (from the barrier to its result) and sum.

import { childrenOf, parentOf } from '../lib/fanout.ts';
import { DATA_BITS, GO_BITS, barrier, setup, waitFor } from '../lib/ptlapp.ts';
import { PTL } from '../lib/portals.ts';
import { program } from '../lib/runtime.ts';

const TREE = { kind: 'binomial' } as const;

export default program('allreduce', function* main(env) {
  const { sys, mem } = env;
  const app = yield* setup(env, 4096);
  const kids = childrenOf(TREE, app.rank, app.size);
  const parent = parentOf(TREE, app.rank);
  yield* barrier(env, app);
  const start = yield* sys.clockNs();
  // Up: each child puts its partial sum at its own slot of the parent's buffer.
  let sum = BigInt(app.rank + 1);
  for (let i = 0; i < kids.length; i++) {
    const ev = yield* waitFor(app, DATA_BITS);
    sum += yield* mem.loadU64(ev.start);
  }
  if (parent >= 0) {
    const slot = childrenOf(TREE, parent, app.size).indexOf(app.rank);
    yield* mem.storeU64(app.sbuf, sum);
    yield* app.P.PtlPut(app.md, 0, 8, PTL.NO_ACK_REQ, { rank: parent }, 0, DATA_BITS, 8 * slot, 0, 0);
    // Down: the total arrives on the GO entry.
    const ev = yield* waitFor(app, GO_BITS);
    sum = yield* mem.loadU64(ev.start);
  }
  yield* mem.storeU64(app.sbuf, sum);
  for (const k of kids) yield* app.P.PtlPut(app.md, 0, 8, PTL.NO_ACK_REQ, { rank: k }, 0, GO_BITS, 0, 0, 0);
  const expected = BigInt((app.size * (app.size + 1)) / 2);
  if (sum !== expected) {
    yield* sys.print(`allreduce: rank ${app.rank} got ${sum}, expected ${expected}\n`, 2);
    return 1;
  }
  if (app.rank === 0) {
    const ns = (yield* sys.clockNs()) - start;
    yield* sys.publish('allreduce_ns', ns);
    yield* sys.publish('sum', Number(sum));
    yield* sys.print(`allreduce over ${app.size} ranks: sum ${sum} in ${ns} ns\n`);
  }
  return 0;
});
