// unet_bandwidth: rank 0 streams COUNT U-Net messages of each size to rank
// 1 as fast as the send queue takes them; rank 1 answers the last with a
// zero-byte message. Bandwidth is the bytes sent over the time from the
// first send to that answer. Base level (the default) copies each message
// into a send buffer and out of its receive buffer; `direct` sends from
// the segment straight into the peer's direct-access area (true zero
// copy). Publishes bandwidth_MBps_<size> for every size and
// bandwidth_MBps (the largest).
// Arguments: [direct] [sizes in bytes].

import type { U } from '../lib/ops.ts';
import type { Env } from '../lib/runtime.ts';
import { program } from '../lib/runtime.ts';
import { type UnetEndpoint, UNET_LIMITS, UNET_STATUS, unetBuffer, unetCreate, unetFlush, unetOpen, unetReceive, unetRelease, unetSend, unetSendsPending } from '../lib/unet.ts';

const DEFAULT_SIZES = [64, 512, 1024, 2048, 4096];
const COUNT = 32;
const ENTRIES = 16;
const CHAN = 0;

export default program('unet_bandwidth', function* main(env) {
  const { sys } = env;
  const args = env.argv.slice(1);
  const direct = args[0] === 'direct';
  const sizes = (direct ? args.slice(1) : args).map(Number);
  if (sizes.length === 0) sizes.push(...DEFAULT_SIZES);
  if (sizes.some((s) => !Number.isSafeInteger(s) || s < 1 || s > UNET_LIMITS.MAX_MESSAGE)) {
    yield* sys.print(`unet_bandwidth: sizes must be whole numbers of bytes from 1 to ${UNET_LIMITS.MAX_MESSAGE}\n`, 2);
    return 2;
  }
  const rank = yield* sys.getrank();
  if ((yield* sys.getsize()) < 2) {
    yield* sys.print('unet_bandwidth needs at least 2 ranks\n', 2);
    return 2;
  }
  if (rank > 1) return 0;
  const peer = (yield* sys.jobMap())[1 - rank];
  const biggest = Math.max(...sizes);
  const bufBytes = Math.ceil(biggest / 64) * 64;
  const ep = yield* unetCreate(env, { entries: ENTRIES, bufBytes, directBytes: direct ? ENTRIES * bufBytes : 0 });
  yield* unetOpen(env, ep, CHAN, { nid: peer.nid, pid: peer.pid, ep: ep.id, chan: CHAN });
  // Direct access: the data lives in the segment; messages land in a ring of ENTRIES slots, the direct-access area declared before the open.
  const area = ep.direct.offset;
  const app = direct ? 0 : yield* env.mem.alloc(biggest);
  for (const n of sizes) {
    if (rank === 0) {
      const start = yield* sys.clockNs();
      for (let i = 0; i < COUNT; i++) yield* sendOne(env, ep, n, direct, direct ? area + (i % ENTRIES) * bufBytes : unetBuffer(ep, i % ENTRIES), app);
      const ack = yield* unetReceive(env, ep);
      yield* unetRelease(env, ep, ack);
      const ns = (yield* sys.clockNs()) - start;
      const mbps = Math.round(((n * COUNT) / ns) * 1000);
      yield* sys.publish(`bandwidth_MBps_${n}`, mbps);
      if (n === biggest) yield* sys.publish('bandwidth_MBps', mbps);
      yield* sys.print(`${String(n).padStart(8)} B  ${String(mbps).padStart(6)} MB/s${direct ? ' (direct)' : ''}\n`);
    } else {
      for (let i = 0; i < COUNT; i++) {
        const m = yield* unetReceive(env, ep);
        if (m.status !== UNET_STATUS.OK || m.len !== n) throw new Error(`unet_bandwidth: message ${i} has status ${m.status}, ${m.len} of ${n} bytes`);
        if (!direct) yield* env.mem.store(app, yield* env.mem.load(ep.va + m.offset, n));
        yield* unetRelease(env, ep, m);
      }
      while (!(yield* unetSend(env, ep, CHAN, unetBuffer(ep, 0), 0))) yield* env.compute(50);
    }
  }
  yield* unetFlush(env, ep);
  return 0;
});

/** One message: base level copies it into send buffer `at` first (waiting until the NIC has read that buffer's last use). */
function* sendOne(env: Env, ep: UnetEndpoint, n: number, direct: boolean, at: number, app: number): U {
  if (!direct) {
    while ((yield* unetSendsPending(env, ep)) >= ENTRIES) yield* env.compute(50);
    yield* env.mem.store(ep.va + at, yield* env.mem.load(app, n));
  }
  while (!(yield* unetSend(env, ep, CHAN, at, n, direct ? { direct: at } : {}))) yield* env.compute(50);
}
