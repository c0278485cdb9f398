// allsum: a global reduction with a user-defined operation,
// a (+) b = a + b + a*b (so the result is prod(1 + v) - 1, mod 2^64), up a
// binary tree while every rank works for 10 ms. Rank r contributes r + 1.
// Mode: poll, irq or ext (default). Rank 0 publishes latency_ns (from the
// common start to the result at the root) and result.

import { barrier } from '../lib/ptlapp.ts';
import { channel, children, computeWhileHandling, modeOf, parent, send, words } from '../lib/collective.ts';
import { attachExtension } from '../lib/ext.ts';
import { program } from '../lib/runtime.ts';

export const combine = (a: bigint, b: bigint): bigint => BigInt.asUintN(64, a + b + a * b);

// Granted region: [0] acc, [8] count, [16] expected, [24] parent rank (-1 at the root), [32] finish time.
// On each value: acc = acc (+) value; count += 1; when count == expected, forward acc to the parent
// (or, at the root, note the time). Messages are consumed (dropped) by the handler.
const HANDLER = `
  mov %r6, %r1
  mov %r7, %r3
  ldxdw %r2, [%r6+64]
  ldxdw %r1, [%r7+0]
  mov %r3, %r1
  mul %r3, %r2
  add %r1, %r2
  add %r1, %r3
  stxdw [%r7+0], %r1
  ldxdw %r4, [%r7+8]
  add %r4, 1
  stxdw [%r7+8], %r4
  ldxdw %r5, [%r7+16]
  jne %r4, %r5, out
  ldxdw %r8, [%r7+24]
  jslt %r8, 0, root
  mov %r1, %r8
  mov %r2, 1
  mov %r3, 7
  mov %r4, %r7
  mov %r5, 8
  call forward
  ja out
root:
  call now_ns
  stxdw [%r7+32], %r0
out:
  mov %r0, 1
  exit`;

export default program('allsum', function* main(env) {
  const { sys, mem } = env;
  const mode = modeOf(env);
  const ch = yield* channel(env);
  const { rank, size } = ch.app;
  const kids = children(rank, size);
  const up = rank === 0 ? -1 : parent(rank);
  const mine = BigInt(rank + 1);
  // The accumulator lives in memory the extension is granted (and the user handlers use too).
  const region = yield* mem.alloc(64);
  yield* mem.storeU64(region + 16, BigInt(kids.length + 1));
  yield* mem.storeU64(region + 24, BigInt.asUintN(64, BigInt(up)));
  if (mode === 'ext') {
    const r = yield* attachExtension(env, { code: HANDLER, format: 'asm', entry: ch.me, region, regionLen: 64, payloadMax: 8, engine: 'jit' });
    if (!r.ok) throw new Error(`extension refused: ${r.reason}`);
  }
  yield* barrier(env, ch.app);
  const t0 = yield* sys.clockNs();
  let finishedAt = -1;
  // Adds a value (own or a child's); forwards or finishes when everything is in.
  function* add(here: typeof env, v: bigint) {
    const acc = combine(yield* here.mem.loadU64(region), v);
    yield* here.mem.storeU64(region, acc);
    const count = (yield* here.mem.loadU64(region + 8)) + 1n;
    yield* here.mem.storeU64(region + 8, count);
    if (count === BigInt(kids.length + 1)) {
      if (up >= 0) yield* send(here, ch, up, [acc]);
      else finishedAt = yield* here.sys.clockNs();
    }
    return count === BigInt(kids.length + 1);
  }
  const complete = yield* add(env, mine);
  if (mode === 'ext') {
    // The extension does the rest; the rank just works, then looks at the result.
    yield* env.compute(24_000_000);
    if (rank === 0 && !complete) finishedAt = Number(yield* mem.loadU64(region + 32));
  } else {
    yield* computeWhileHandling(
      env,
      ch,
      mode,
      function* (ev, here) {
        const [v] = yield* words(here, ev, 1);
        return yield* add(here, v);
      },
      function* () {
        return (yield* mem.loadU64(region + 8)) === BigInt(kids.length + 1);
      },
    );
  }
  if (rank === 0) {
    const result = yield* mem.loadU64(region);
    let want = 0n;
    for (let r = 0; r < size; r++) want = combine(want, BigInt(r + 1));
    yield* sys.publish('latency_ns', finishedAt - t0);
    yield* sys.publish('result_ok', result === want ? 1 : 0);
    yield* sys.print(`allsum (${mode}): result ${result}${result === want ? '' : ` (expected ${want})`} after ${finishedAt - t0} ns\n`);
    return result === want ? 0 : 1;
  }
  return 0;
});
