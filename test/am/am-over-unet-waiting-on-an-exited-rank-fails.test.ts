// Review 3 of #13: over U-Net, an Active Message to a rank that has exited comes back BAD_CHANNEL in the
// sender's send queue, but the layer never read send statuses: am.request returned as if sent, and
// waitUntil spun until the host's limit. Now the layer reads the statuses of completed sends (when a slot is
// reused, and every so many empty polls of a wait) and the wait ends in an AmError naming the rank.
// The survivors work 200 us before they send, so the exited rank's CLOSE has reached their NICs: a message
// that leaves before it (one network latency) is delivered to the exiting rank's queue and never answered,
// and that the send queue cannot tell (see ACTIVE-MESSAGES.md).
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { amStart } from '../../userland/lib/am/am.ts';
import { program } from '../../userland/lib/runtime.ts';
import { transportOf } from './harness.ts';

/** Every rank requests a pong from every other; rank `who` exits at `where` instead of going on. */
function exitAt(where: 'transport' | 'start' | 'sent', ranks = 3, who = 1) {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [ranks] }, seed: 1 });
  sys.trace.enabled = false;
  const undelivered: number[] = [];
  const prog = program('exitpoints', function* (env) {
    const rank = yield* env.sys.getrank();
    const transport = yield* transportOf(env, 'unet');
    if (rank === who && where === 'transport') return 3;
    let got = 0;
    const am = yield* amStart(env, transport, [
      function* ping(token, x) {
        yield* token.reply(1, x);
      },
      function* pong() {
        got++;
      },
    ]);
    if (rank === who && where === 'start') return 3;
    if (rank !== who) yield* env.compute(480_000); // 200 us at 2.4 GHz
    for (let d = 0; d < am.size; d++) if (d !== rank) yield* am.request(d, 0, d);
    if (rank === who && where === 'sent') return 3;
    try {
      yield* am.waitUntil(() => got === am.size - 1);
    } finally {
      undelivered[rank] = am.stats.undelivered;
    }
    yield* am.flush();
    return 0;
  });
  const job = sys.launchDirect(prog, Array.from({ length: ranks }, (_, i) => i), []);
  // A bound far past any answer (the set-up takes some tens of us): a rank still waiting then is the bug.
  sys.run({ done: () => sys.jobDone(job), until: 100e6 * 1000 });
  return { ranks: job.ranks.map((r) => ({ status: r.process!.exitStatus, reason: r.process!.exitReason ?? '' })), undelivered, endNs: sys.now / 1000 };
}

describe('AM over U-Net, waiting on a rank that has exited', () => {
  for (const where of ['transport', 'start', 'sent'] as const) {
    it(`ends in an AmError naming the rank when it exited after ${where}`, () => {
      const r = exitAt(where);
      expect(r.ranks[1].status).toBe(3);
      for (const survivor of [0, 2]) {
        expect(r.ranks[survivor].status).not.toBe(0);
        expect(r.ranks[survivor].reason).toMatch(new RegExp(`rank ${survivor}: rank 1 has exited: \\d+ message\\(s\\) to it came back undelivered`));
        expect(r.undelivered[survivor]).toBeGreaterThan(0);
      }
      expect(r.endNs).toBeLessThan(100e6); // long before the bound: nobody spun for 100 ms
    });
  }
});
