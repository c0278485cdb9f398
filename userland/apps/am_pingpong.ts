// am_pingpong: ranks 0 and 1 bounce Active Messages of each size: rank 0
// stores n bytes into rank 1's buffer with a handler that counts arrivals,
// rank 1 polls until it has run and stores n bytes back. The one-way latency
// is half the round trip (the definition pingpong and unet_pingpong use).
// Publishes latency_ns_<size> and bandwidth_MBps_<size> for every size,
// zero_byte_latency_ns, and bandwidth_MBps (the largest size).
// Arguments: [unet | portals] (the transport; default unet) [sizes in bytes].

import { type AmTransport } from '../lib/am/transport.ts';
import { amStart } from '../lib/am/am.ts';
import { amOverPortals } from '../lib/am/portals.ts';
import { amOverUnet } from '../lib/am/unet.ts';
import { program } from '../lib/runtime.ts';

const DEFAULT_SIZES = [0, 8, 64, 512, 1024, 2048, 4096];
const ITERATIONS = 10;
const MAX_DATA = 4096;

export default program('am_pingpong', function* main(env) {
  const { sys } = env;
  const args = env.argv.slice(1);
  const named = args[0] === 'unet' || args[0] === 'portals';
  const transportName = named ? args[0] : 'unet';
  const sizes = (named ? args.slice(1) : args).map(Number);
  if (sizes.length === 0) sizes.push(...DEFAULT_SIZES);
  if (sizes.some((s) => !Number.isSafeInteger(s) || s < 0 || s > MAX_DATA)) {
    yield* sys.print(`am_pingpong: arguments are [unet|portals] then sizes in whole bytes up to ${MAX_DATA}\n`, 2);
    return 2;
  }
  const nranks = yield* sys.getsize();
  if (nranks < 2) {
    yield* sys.print('am_pingpong needs at least 2 ranks\n', 2);
    return 2;
  }
  // Every rank sets up the transport (Portals' set-up ends in a barrier of the whole job).
  const transport: AmTransport = transportName === 'unet' ? yield* amOverUnet(env, { maxData: MAX_DATA }) : yield* amOverPortals(env, { maxData: MAX_DATA });
  if (transport.rank > 1) return 0;
  const peer = 1 - transport.rank;
  const buf = yield* env.mem.alloc(MAX_DATA);
  let arrived = 0;
  const ARRIVED = 0;
  const am = yield* amStart(env, transport, [
    function* arrivedHandler() {
      arrived++;
    },
  ]);
  // The peer stores into buf: the only memory of this rank its messages may reach.
  am.expose(buf, MAX_DATA);
  for (const n of sizes) {
    let start = 0;
    for (let i = 0; i < ITERATIONS + 1; i++) {
      if (i === 1) start = yield* sys.clockNs(); // the first exchange warms up
      if (transport.rank === 0) {
        yield* am.store(peer, buf, buf, n, ARRIVED);
        const want = arrived + 1;
        yield* am.waitUntil(() => arrived >= want);
      } else {
        const want = arrived + 1;
        yield* am.waitUntil(() => arrived >= want);
        yield* am.store(peer, buf, buf, n, ARRIVED);
      }
    }
    if (transport.rank === 0) {
      const oneWay = ((yield* sys.clockNs()) - start) / (2 * ITERATIONS);
      yield* sys.publish(`latency_ns_${n}`, Math.round(oneWay));
      if (n > 0) yield* sys.publish(`bandwidth_MBps_${n}`, Math.round((n / oneWay) * 1000));
      yield* sys.print(`${String(n).padStart(8)} B  ${oneWay.toFixed(0).padStart(9)} ns  ${n > 0 ? ((n / oneWay) * 1000).toFixed(1) : '-'} MB/s (AM over ${transport.name})\n`);
      if (n === 0) yield* sys.publish('zero_byte_latency_ns', Math.round(oneWay));
      if (n === Math.max(...sizes) && n > 0) yield* sys.publish('bandwidth_MBps', Math.round((n / oneWay) * 1000));
    }
  }
  // Rank 1 stays until rank 0 has measured (over U-Net its exit closes the channel, and the
  // kernel's CLOSE to node 0 would interrupt the last exchanges being timed).
  if (transport.rank === 0) yield* am.request(peer, ARRIVED);
  else {
    const want = arrived + 1;
    yield* am.waitUntil(() => arrived >= want);
  }
  // Messages refused as malformed (none in a run of this app; the report shows if any were).
  yield* sys.publish('am_dropped', am.stats.dropped);
  yield* am.flush();
  return 0;
});
