// ext_pingpong: rank 0 bounces puts of each size off rank 1, where a kernel
// extension on the receiving ME answers each one with the `reply` helper
// (the payload sent straight back) and drops it: no user process runs on
// rank 1 while the exchange lasts (it sleeps in PtlEQWait). The one-way
// latency is half the round trip (pingpong's definition). Rank 0 publishes
// latency_ns_<size>, zero_byte_latency_ns; rank 1 publishes ext_runs (the
// handler's runs, from ext_stats). Arguments: sizes in bytes (up to 4096).

import { barrier, DATA_BITS, waitFor } from '../lib/ptlapp.ts';
import { COLL_BITS, COLL_PT, channel } from '../lib/collective.ts';
import { attachExtension, EXT_HEADER_WORDS, extensionStats } from '../lib/ext.ts';
import { PTL } from '../lib/portals.ts';
import { program } from '../lib/runtime.ts';

const DEFAULT_SIZES = [0, 64, 256, 512, 1024, 2048, 4096];
const ITERATIONS = 10;
const MAX_DATA = 4096;
const HEADER_BYTES = 8 * EXT_HEADER_WORDS.length;

// r1 = message (header, then payload), r2 = its length: reply(pt 0, DATA_BITS, payload, length - header); drop.
// The mask and the bound check are for the verifier (the payload never exceeds payload_max).
const HANDLER = `
  mov %r3, %r1
  add %r3, ${HEADER_BYTES}
  mov %r4, %r2
  sub %r4, ${HEADER_BYTES}
  and %r4, 0x1fff
  jgt %r4, ${MAX_DATA}, done
  mov %r1, 0
  mov %r2, ${DATA_BITS}
  call reply
done:
  mov %r0, 1
  exit`;

export default program('ext_pingpong', function* main(env) {
  const { sys } = env;
  const sizes = env.argv.length > 1 ? env.argv.slice(1).map(Number) : DEFAULT_SIZES;
  if (sizes.some((s) => !Number.isSafeInteger(s) || s < 0 || s > MAX_DATA)) {
    yield* sys.print(`ext_pingpong: sizes must be whole numbers of bytes up to ${MAX_DATA}\n`, 2);
    return 2;
  }
  const ch = yield* channel(env, MAX_DATA);
  const { app } = ch;
  if (app.size < 2) {
    yield* sys.print('ext_pingpong needs at least 2 ranks\n', 2);
    return 2;
  }
  let ext = -1;
  if (app.rank === 1) {
    const r = yield* attachExtension(env, { code: HANDLER, format: 'asm', entry: ch.me, payloadMax: MAX_DATA, engine: 'jit' });
    if (!r.ok) {
      yield* sys.print(`ext_pingpong: extension refused: ${r.reason}\n`, 2);
      return 1;
    }
    ext = r.id;
  }
  yield* barrier(env, app);
  if (app.rank > 1) return 0;
  if (app.rank === 1) {
    // Asleep until rank 0 says it is done; the extension answers meanwhile.
    yield* waitFor(app, DATA_BITS);
    const s = yield* extensionStats(env, ext);
    yield* sys.publish('ext_runs', s.runs);
    return 0;
  }
  for (const size of sizes) {
    let start = 0;
    for (let i = 0; i < ITERATIONS + 1; i++) {
      if (i === 1) start = yield* sys.clockNs(); // the first exchange warms up
      yield* app.P.PtlPut(app.md, 0, size, PTL.NO_ACK_REQ, { rank: 1 }, COLL_PT, COLL_BITS, 0, 0, 0);
      yield* waitFor(app, DATA_BITS);
    }
    const oneWay = ((yield* sys.clockNs()) - start) / (2 * ITERATIONS);
    yield* sys.publish(`latency_ns_${size}`, Math.round(oneWay));
    if (size > 0) yield* sys.publish(`bandwidth_MBps_${size}`, Math.round((size / oneWay) * 1000));
    yield* sys.print(`${String(size).padStart(8)} B  ${oneWay.toFixed(0).padStart(9)} ns (answered by a kernel extension)\n`);
    if (size === 0) yield* sys.publish('zero_byte_latency_ns', Math.round(oneWay));
  }
  // Wake rank 1 on its data entry (pt 0): the exchange is over.
  yield* app.P.PtlPut(app.md, 0, 0, PTL.NO_ACK_REQ, { rank: 1 }, 0, DATA_BITS, 0, 0, 0);
  return 0;
});
