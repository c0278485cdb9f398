// bcast: rank 0 broadcasts over a binary tree while every rank is busy with
// 10 ms of work. Mode (first argument): poll, irq or ext (default). Each
// rank publishes latency_ns, the time from the root's send to its arrival;
// the largest is the broadcast's completion latency.

import { barrier } from '../lib/ptlapp.ts';
import { type Channel, channel, children, computeWhileHandling, modeOf, send, words } from '../lib/collective.ts';
import { attachExtension } from '../lib/ext.ts';
import type { Env } from '../lib/runtime.ts';
import { program } from '../lib/runtime.ts';

// The extension: note the arrival time, forward the payload to both children, deliver.
const HANDLER = `
  mov %r6, %r1
  mov %r7, %r3
  call now_ns
  stxdw [%r7+0], %r0
  ldxdw %r8, [%r7+24]
  jslt %r8, 0, done
  mov %r1, %r8
  mov %r2, 1
  mov %r3, 7
  mov %r4, %r6
  add %r4, 64
  mov %r5, 8
  call forward
  ldxdw %r8, [%r7+32]
  jslt %r8, 0, done
  mov %r1, %r8
  mov %r2, 1
  mov %r3, 7
  mov %r4, %r6
  add %r4, 64
  mov %r5, 8
  call forward
done:
  mov %r0, 0
  exit`;

function* grantRegion(env: Env, ch: Channel) {
  const kids = children(ch.app.rank, ch.app.size);
  const region = yield* env.mem.alloc(64);
  yield* env.mem.storeU64(region + 24, BigInt.asUintN(64, BigInt(kids[0] ?? -1)));
  yield* env.mem.storeU64(region + 32, BigInt.asUintN(64, BigInt(kids[1] ?? -1)));
  return region;
}

export default program('bcast', function* main(env) {
  const { sys } = env;
  const mode = modeOf(env);
  const ch = yield* channel(env);
  const { rank, size } = ch.app;
  const kids = children(rank, size);
  let region = 0;
  if (mode === 'ext') {
    region = yield* grantRegion(env, ch);
    const r = yield* attachExtension(env, { code: HANDLER, format: 'asm', entry: ch.me, region, regionLen: 64, payloadMax: 8, engine: 'jit' });
    if (!r.ok) throw new Error(`extension refused: ${r.reason}`);
  }
  yield* barrier(env, ch.app);
  let t0 = 0;
  let arrival = -1;
  if (rank === 0) {
    t0 = yield* sys.clockNs();
    arrival = t0;
    for (const k of kids) yield* send(env, ch, k, [BigInt(t0)]);
    yield* env.compute(24_000_000);
  } else {
    yield* computeWhileHandling(
      env,
      ch,
      mode,
      function* (ev, here) {
        const [root] = yield* words(here, ev, 1);
        t0 = Number(root);
        arrival = yield* here.sys.clockNs();
        for (const k of kids) yield* send(here, ch, k, [root]);
        return true;
      },
      function* () {
        return arrival >= 0;
      },
    );
    if (mode === 'ext') {
      t0 = Number(yield* env.mem.loadU64(ch.buf));
      arrival = Number(yield* env.mem.loadU64(region));
    }
  }
  yield* sys.publish('latency_ns', arrival - t0);
  return 0;
});
