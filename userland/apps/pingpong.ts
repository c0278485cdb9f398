// pingpong: ranks 0 and 1 bounce puts of each size in a sweep; the one-way
// latency is half the round trip. Publishes latency_ns_<size> and
// bandwidth_MBps_<size> for every size, plus zero_byte_latency_ns and
// bandwidth_MBps (the largest size). Arguments: sizes in bytes (optional).

import { DATA_BITS, gather, setup, waitFor } from '../lib/ptlapp.ts';
import { PTL } from '../lib/portals.ts';
import { program } from '../lib/runtime.ts';

const DEFAULT_SIZES = [0, 8, 64, 512, 4096, 32768, 262144, 1048576];
const ITERATIONS = 10;

export default program('pingpong', function* main(env) {
  const { sys } = env;
  const sizes = env.argv.length > 1 ? env.argv.slice(1).map(Number) : DEFAULT_SIZES;
  if (sizes.some((s) => !Number.isSafeInteger(s) || s < 0 || s > 64 << 20)) {
    yield* sys.print('pingpong: sizes must be whole numbers of bytes up to 64 MiB\n', 2);
    return 2;
  }
  const app = yield* setup(env, Math.max(...sizes, 8));
  if (app.size < 2) {
    yield* sys.print('pingpong needs at least 2 ranks\n', 2);
    return 2;
  }
  if (app.rank > 1) return 0;
  const peer = 1 - app.rank;
  // Rank 1 tells rank 0 it is ready; rank 0 starts only then.
  yield* gather(env, app); // rank 1 tells rank 0 it is ready
  for (const size of sizes) {
    let start = 0;
    for (let i = 0; i < ITERATIONS + 1; i++) {
      if (i === 1) start = yield* sys.clockNs(); // the first exchange warms up
      if (app.rank === 0) {
        yield* app.P.PtlPut(app.md, 0, size, PTL.NO_ACK_REQ, { rank: peer }, 0, DATA_BITS, 0, 0, 0);
        yield* waitFor(app, DATA_BITS);
      } else {
        yield* waitFor(app, DATA_BITS);
        yield* app.P.PtlPut(app.md, 0, size, PTL.NO_ACK_REQ, { rank: peer }, 0, DATA_BITS, 0, 0, 0);
      }
    }
    if (app.rank === 0) {
      const oneWay = ((yield* sys.clockNs()) - start) / (2 * ITERATIONS);
      yield* sys.publish(`latency_ns_${size}`, Math.round(oneWay));
      if (size > 0) yield* sys.publish(`bandwidth_MBps_${size}`, Math.round((size / oneWay) * 1000));
      yield* sys.print(`${String(size).padStart(8)} B  ${oneWay.toFixed(0).padStart(9)} ns  ${size > 0 ? ((size / oneWay) * 1000).toFixed(1) : '-'} MB/s\n`);
      if (size === 0) yield* sys.publish('zero_byte_latency_ns', Math.round(oneWay));
      if (size === Math.max(...sizes) && size > 0) yield* sys.publish('bandwidth_MBps', Math.round((size / oneWay) * 1000));
    }
  }
  return 0;
});
