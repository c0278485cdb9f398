// ring: a token goes round all ranks (0 -> 1 -> ... -> N-1 -> 0) by Portals
// puts, ROUNDS times. Rank 0 publishes ring_round_ns and per_hop_ns.

import { DATA_BITS, gather, setup, waitFor } from '../lib/ptlapp.ts';
import { PTL } from '../lib/portals.ts';
import { program } from '../lib/runtime.ts';

const ROUNDS = 5;

export default program('ring', function* main(env) {
  const { sys } = env;
  const app = yield* setup(env, 64);
  if (app.size < 2) {
    yield* sys.print('ring needs at least 2 ranks\n', 2);
    return 2;
  }
  const next = (app.rank + 1) % app.size;
  // Everyone but rank 0 reports ready to rank 0, which starts when all have.
  yield* gather(env, app);
  let start = 0;
  for (let r = 0; r < ROUNDS; r++) {
    if (app.rank === 0) {
      if (r === 0) start = yield* sys.clockNs();
      yield* app.P.PtlPut(app.md, 0, 8, PTL.NO_ACK_REQ, { rank: next }, 0, DATA_BITS, 0, 0, 0);
      yield* waitFor(app, DATA_BITS);
    } else {
      yield* waitFor(app, DATA_BITS);
      yield* app.P.PtlPut(app.md, 0, 8, PTL.NO_ACK_REQ, { rank: next }, 0, DATA_BITS, 0, 0, 0);
    }
  }
  if (app.rank === 0) {
    const round = ((yield* sys.clockNs()) - start) / ROUNDS;
    yield* sys.publish('ring_round_ns', Math.round(round));
    yield* sys.publish('per_hop_ns', Math.round(round / app.size));
    yield* sys.print(`ring of ${app.size}: ${round.toFixed(0)} ns per round, ${(round / app.size).toFixed(0)} ns per hop\n`);
  }
  return 0;
});
