// Review 3 of #13: AM over U-Net gave up when a rank reached its set-up more than about 4 ms after another
// (unetOpen retried ECONNREFUSED 200 times, 20 us apart) and every rank died, while AM over Portals waits (its
// set-up barrier waits up to 10 s of simulated time). Now both wait as long, with a back-off so that a long
// wait is a few hundred events, not millions, and a rank that never comes is named in an AmError.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { amStart } from '../../userland/lib/am/am.ts';
import { AM_UNET_SETUP_WAIT_NS } from '../../userland/lib/am/unet.ts';
import { program } from '../../userland/lib/runtime.ts';
import { TRANSPORTS, transportOf } from './harness.ts';

/** Rank 1 works `lateNs` (or never comes: it exits) before its set-up; rank 0 sets up at once. */
function lateRank(transport: (typeof TRANSPORTS)[number], lateNs: number | 'never') {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
  sys.trace.enabled = false;
  const prog = program('late', function* (env) {
    if ((yield* env.sys.getrank()) === 1) {
      if (lateNs === 'never') return 0;
      yield* env.sys.nanosleep(lateNs);
    }
    const am = yield* amStart(env, yield* transportOf(env, transport), [function* h() {}]);
    yield* am.flush();
    return 0;
  });
  const job = sys.launchDirect(prog, [0, 1], []);
  const fired0 = sys.engine.fired;
  sys.run({ done: () => sys.jobDone(job), until: 1e15 });
  const r0 = job.ranks[0].process!;
  return { status: job.ranks.map((r) => r.process!.exitStatus), reason: r0.exitReason ?? '', events: sys.engine.fired - fired0, endNs: sys.now / 1000 };
}

describe('AM over U-Net set-up', () => {
  for (const transport of TRANSPORTS) {
    it(`over ${transport}, waits for a rank that comes 10 ms and 1 s late`, () => {
      for (const late of [10e6, 1e9]) {
        const r = lateRank(transport, late);
        expect(r.status).toEqual([0, 0]);
        expect(r.endNs).toBeGreaterThan(late);
        expect(r.events).toBeLessThan(100_000); // a back-off: not one poll every few us for a second
      }
    });
  }

  it('names the rank that never came, at the set-up deadline (within margay run\'s default time limit)', () => {
    const r = lateRank('unet', 'never');
    expect(r.status[0]).not.toBe(0);
    expect(r.reason).toMatch(/rank 0: rank 1 did not open its end of AM over U-Net in 5000 ms/);
    expect(r.endNs).toBeGreaterThanOrEqual(AM_UNET_SETUP_WAIT_NS);
    expect(r.endNs).toBeLessThan(10e9);
    expect(r.events).toBeLessThan(100_000);
  });
});
