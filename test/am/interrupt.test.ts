// Interrupt-driven Active Messages: a message's arrival interrupts the
// receiver's computation, the handler runs at user level, and the
// computation goes on with the cycles it had left. Without it, a busy
// receiver answers only when its computation ends.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { amInterrupts, amStart } from '../../userland/lib/am/am.ts';
import { amOverUnet } from '../../userland/lib/am/unet.ts';
import { program } from '../../userland/lib/runtime.ts';

const WORK_CYCLES = 2_400_000; // 1 ms at redstorm's 2.4 GHz

function busyReceiver(interrupt: boolean) {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
  sys.trace.enabled = false;
  const prog = program('busy', function* (env) {
    const t = yield* amOverUnet(env, { interrupt });
    let answered = false;
    let handledAtNs = 0;
    const am = yield* amStart(env, t, [
      function* ping(tok) {
        handledAtNs = yield* env.sys.clockNs();
        yield* tok.reply(1);
      },
      function* pong() {
        answered = true;
      },
    ]);
    if (interrupt) amInterrupts(env, am);
    if (t.rank === 0) {
      // Give rank 1 time to start its computation, then ask.
      yield* env.compute(240_000);
      const start = yield* env.sys.clockNs();
      yield* am.request(1, 0);
      yield* am.waitUntil(() => answered);
      yield* env.sys.publish('round_trip_ns', (yield* env.sys.clockNs()) - start);
    } else {
      const start = yield* env.sys.clockNs();
      yield* env.compute(WORK_CYCLES);
      const end = yield* env.sys.clockNs();
      yield* am.waitUntil(() => handledAtNs > 0);
      yield* env.sys.publish('work_ns', end - start);
      yield* env.sys.publish('handled_during_work', handledAtNs < end ? 1 : 0);
    }
    yield* am.flush();
  });
  const job = sys.launchDirect(prog, [0, 1], []);
  sys.run({ done: () => sys.jobDone(job), until: 1e12 });
  const res = job.ranks.map((r) => Object.fromEntries(r.process!.results));
  return { statuses: job.ranks.map((r) => r.process!.exitStatus), rank0: res[0], rank1: res[1] };
}

describe('interrupt-driven Active Messages', () => {
  it('run the handler while the receiver computes, and the computation still gets all its cycles', () => {
    const r = busyReceiver(true);
    expect(r.statuses).toEqual([0, 0]);
    expect(r.rank1.handled_during_work).toBe(1);
    expect(r.rank0.round_trip_ns).toBeLessThan(50_000);
    // The work took at least its 1 ms, plus the handler's time.
    expect(r.rank1.work_ns).toBeGreaterThanOrEqual(1_000_000);
  });

  it('are needed: a polling receiver answers only after its computation', () => {
    const r = busyReceiver(false);
    expect(r.statuses).toEqual([0, 0]);
    expect(r.rank1.handled_during_work).toBe(0);
    expect(r.rank0.round_trip_ns).toBeGreaterThan(800_000);
  });
});
