// Verify 13: with the receive engine's bound (RX_BACKLOG per (endpoint, sending node)) holding the rest of a
// burst "in the network", the kernels' CLOSE, which took no share, overtook the data its sender had flushed
// before it, and the receiver's kernel shut the channel under it: 66 of 200 messages were dropped as forged.
// A control message now waits behind the data its node sent first.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { program } from '../../userland/lib/runtime.ts';
import { unetBuffer, unetClose, unetCreate, unetFlush, unetOpen, unetPoll, unetRelease, unetSend } from '../../userland/lib/unet.ts';

function run(profile: string, how: 'exit' | 'close', n: number): { got: number; statuses: Record<number, number> } {
  const sys = new System({ profile: getProfile(profile), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
  const s = { got: 0, statuses: {} as Record<number, number>, senderDone: false };
  const prog = program('burst', function* (env) {
    const rank = yield* env.sys.getrank();
    const peer = (yield* env.sys.jobMap())[1 - rank];
    const ep = yield* unetCreate(env, { entries: 1024, bufBytes: 64 });
    yield* unetOpen(env, ep, 0, { nid: peer.nid, pid: peer.pid, ep: ep.id, chan: 0 });
    if (rank === 1) {
      yield* env.sys.nanosleep(20_000); // the receiver is polling
      for (let i = 0; i < n; i++) yield* unetSend(env, ep, 0, unetBuffer(ep, i % 1024), 8);
      yield* unetFlush(env, ep); // every send has left this NIC
      if (how === 'close') yield* unetClose(env, ep, 0);
      s.senderDone = true;
      return 0; // exit: the endpoint goes, a CLOSE goes to the peer
    }
    const until = (yield* env.sys.clockNs()) + 5_000_000;
    while (s.got < n && (yield* env.sys.clockNs()) < until) {
      const m = yield* unetPoll(env, ep);
      if (m === null) { yield* env.compute(50); continue; }
      s.statuses[m.status] = (s.statuses[m.status] ?? 0) + 1;
      if (m.status === 1) s.got++;
      yield* unetRelease(env, ep, m);
    }
    return 0;
  });
  const job = sys.launchDirect(prog, [0, 1], [], 1000);
  sys.run({ until: 1e13, done: () => sys.jobDone(job) });
  return { got: s.got, statuses: s.statuses };
}

describe('data sent and flushed before a close', () => {
  it.each([['redstorm', 'exit'], ['redstorm', 'close'], ['atm95', 'exit']] as const)('is all received (%s, %s)', (profile, how) => {
    const r = run(profile, how, 200);
    expect(r.got).toBe(200);
  });
});
