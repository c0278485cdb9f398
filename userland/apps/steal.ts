// steal: Cilk-style work stealing. Rank 0 is idle and asks every other rank
// in turn for work while they compute; a victim answers with one task from
// its queue (or none). Mode: poll, irq or ext (default: the kernel
// extension answers in the receive interrupt). Rank 0 publishes
// latency_ns, the mean time from request to answer, and tasks.

import { barrier } from '../lib/ptlapp.ts';
import { channel, computeWhileHandling, modeOf, send, words } from '../lib/collective.ts';
import { attachExtension } from '../lib/ext.ts';
import { PTL, Portals } from '../lib/portals.ts';
import { program } from '../lib/runtime.ts';

const TASKS = 4;

// Granted region: [0] tasks left. Take one if there is one and answer 1, else answer 0; consume the request.
const HANDLER = `
  mov %r7, %r3
  ldxdw %r2, [%r7+0]
  mov %r8, 0
  jeq %r2, 0, answer
  sub %r2, 1
  stxdw [%r7+0], %r2
  mov %r8, 1
answer:
  stxdw [%r10-8], %r8
  mov %r1, 1
  mov %r2, 7
  mov %r3, %r10
  add %r3, -8
  mov %r4, 8
  call reply
  mov %r0, 1
  exit`;

export default program('steal', function* main(env) {
  const { sys, mem } = env;
  const mode = modeOf(env);
  const ch = yield* channel(env);
  const { rank, size } = ch.app;
  const queue = yield* mem.alloc(64);
  yield* mem.storeU64(queue, BigInt(rank === 0 ? 0 : TASKS));
  if (mode === 'ext' && rank !== 0) {
    const r = yield* attachExtension(env, { code: HANDLER, format: 'asm', entry: ch.me, region: queue, regionLen: 64, payloadMax: 8, engine: 'jit' });
    if (!r.ok) throw new Error(`extension refused: ${r.reason}`);
  }
  yield* barrier(env, ch.app);
  if (rank === 0) {
    const P = new Portals(env.cpu, env.mem);
    let total = 0;
    let got = 0;
    for (let v = 1; v < size; v++) {
      const t = yield* sys.clockNs();
      yield* send(env, ch, v, [0n]);
      const ev = yield* P.PtlEQWait(ch.eq);
      if (ev.rc !== PTL.OK) throw new Error(`PtlEQWait returned ${ev.rc}`);
      total += (yield* sys.clockNs()) - t;
      got += Number((yield* words(env, ev.event!, 1))[0]);
    }
    yield* sys.publish('latency_ns', Math.round(total / (size - 1)));
    yield* sys.publish('tasks', got);
    yield* sys.print(`steal (${mode}): ${got} task(s) from ${size - 1} victim(s), ${Math.round(total / (size - 1))} ns per request\n`);
    return 0;
  }
  let answered = false;
  if (mode === 'ext') yield* env.compute(24_000_000);
  else {
    yield* computeWhileHandling(
      env,
      ch,
      mode,
      function* (ev, here) {
        const left = yield* here.mem.loadU64(queue);
        if (left > 0n) yield* here.mem.storeU64(queue, left - 1n);
        yield* send(here, ch, ev.initiator_nid, [left > 0n ? 1n : 0n]);
        answered = true;
        return true;
      },
      function* () {
        return answered;
      },
    );
  }
  return 0;
});
