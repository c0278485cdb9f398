// unet_pingpong: ranks 0 and 1 bounce U-Net messages of each size in a
// sweep, with no system call on the data path; the one-way latency is half
// the round trip (the definition pingpong uses, so the two compare).
// Base level (the default) copies each message into a segment buffer and
// out of the receive buffer; `direct` keeps the data in the segment and
// sends it straight to the same offset of the peer's segment (true zero
// copy). Publishes latency_ns_<size> and bandwidth_MBps_<size> for every
// size, zero_byte_latency_ns and bandwidth_MBps (the largest size).
// Arguments: [direct] [sizes in bytes].

import { program } from '../lib/runtime.ts';
import { type UnetEndpoint, UNET_LIMITS, UNET_STATUS, unetBuffer, unetCreate, unetFlush, unetOpen, unetReceive, unetRelease, unetSend } from '../lib/unet.ts';
import type { Env } from '../lib/runtime.ts';
import type { U } from '../lib/ops.ts';

const DEFAULT_SIZES = [0, 8, 64, 512, 1024, 2048, 4096];
const ITERATIONS = 10;
const CHAN = 0;

export default program('unet_pingpong', function* main(env) {
  const { sys } = env;
  const args = env.argv.slice(1);
  const direct = args[0] === 'direct';
  const sizes = (direct ? args.slice(1) : args).map(Number);
  if (sizes.length === 0) sizes.push(...DEFAULT_SIZES);
  if (sizes.some((s) => !Number.isSafeInteger(s) || s < 0 || s > UNET_LIMITS.MAX_MESSAGE)) {
    yield* sys.print(`unet_pingpong: sizes must be whole numbers of bytes up to ${UNET_LIMITS.MAX_MESSAGE}\n`, 2);
    return 2;
  }
  const rank = yield* sys.getrank();
  const size = yield* sys.getsize();
  if (size < 2) {
    yield* sys.print('unet_pingpong needs at least 2 ranks\n', 2);
    return 2;
  }
  if (rank > 1) return 0;
  const map = yield* sys.jobMap();
  const peer = map[1 - rank];
  const biggest = Math.max(...sizes);
  const ep = yield* unetCreate(env, { entries: 8, bufBytes: Math.max(64, Math.ceil(biggest / 64) * 64), directBytes: direct ? Math.max(biggest, 1) : 0 });
  yield* unetOpen(env, ep, CHAN, { nid: peer.nid, pid: peer.pid, ep: ep.id, chan: CHAN });
  // Direct access: the application's buffer is the segment's direct-access area (same offset on both ranks), declared before the open.
  const mine = ep.direct.offset;
  const app = direct ? 0 : yield* env.mem.alloc(Math.max(biggest, 1));
  for (const n of sizes) {
    let start = 0;
    for (let i = 0; i < ITERATIONS + 1; i++) {
      if (i === 1) start = yield* sys.clockNs(); // the first exchange warms up
      if (rank === 0) {
        yield* send(env, ep, n, direct, mine, app);
        yield* receive(env, ep, n, direct, app);
      } else {
        yield* receive(env, ep, n, direct, app);
        yield* send(env, ep, n, direct, mine, app);
      }
    }
    if (rank === 0) {
      const oneWay = ((yield* sys.clockNs()) - start) / (2 * ITERATIONS);
      yield* sys.publish(`latency_ns_${n}`, Math.round(oneWay));
      if (n > 0) yield* sys.publish(`bandwidth_MBps_${n}`, Math.round((n / oneWay) * 1000));
      yield* sys.print(`${String(n).padStart(8)} B  ${oneWay.toFixed(0).padStart(9)} ns  ${n > 0 ? ((n / oneWay) * 1000).toFixed(1) : '-'} MB/s${direct ? ' (direct)' : ''}\n`);
      if (n === 0) yield* sys.publish('zero_byte_latency_ns', Math.round(oneWay));
      if (n === biggest && n > 0) yield* sys.publish('bandwidth_MBps', Math.round((n / oneWay) * 1000));
    }
  }
  // Rank 1 stays until rank 0 has measured: its exit closes the channel, and the kernel's
  // CLOSE to node 0 would interrupt the last exchanges being timed.
  if (rank === 0) while (!(yield* unetSend(env, ep, CHAN, unetBuffer(ep, 0), 0))) yield* env.compute(50);
  else yield* unetRelease(env, ep, yield* unetReceive(env, ep));
  yield* unetFlush(env, ep);
  return 0;
});

/** Base level copies the application's bytes into send buffer 0 first; direct sends them where they are. */
function* send(env: Env, ep: UnetEndpoint, n: number, direct: boolean, mine: number, app: number): U {
  if (direct) {
    while (!(yield* unetSend(env, ep, CHAN, mine, n, { direct: mine }))) yield* env.compute(50);
    return;
  }
  const buf = unetBuffer(ep, 0);
  if (n > 0) yield* env.mem.store(ep.va + buf, yield* env.mem.load(app, n));
  while (!(yield* unetSend(env, ep, CHAN, buf, n))) yield* env.compute(50);
}

/** Spins on the receive queue; base level copies the data out of the receive buffer. */
function* receive(env: Env, ep: UnetEndpoint, n: number, direct: boolean, app: number): U {
  const m = yield* unetReceive(env, ep);
  if (m.status !== UNET_STATUS.OK || m.len !== n) throw new Error(`unet_pingpong: received status ${m.status}, ${m.len} of ${n} bytes`);
  if (!direct && n > 0) yield* env.mem.store(app, yield* env.mem.load(ep.va + m.offset, n));
  yield* unetRelease(env, ep, m);
}
