// Review 13, finding 4: one NIC's send engine issues zero-byte messages faster (a descriptor fetch + a
// write-back, ~0.4 us on redstorm) than the receiving NIC's receive engine takes them (rxDemuxPs 0.5 us + a
// free-buffer fetch, or 0.5 us for a dropped one), and the receive engine's FIFO had no bound: a uid-1000
// process on node 0 flooding its own endpoint on node 1 built a backlog there for as long as the flood
// lasted, and a uid-2000 process's zero-byte round trip through node 1 waited behind all of it (3 us alone,
// 120 / 494 / 432 us after 0.1 / 1 / 4 ms of flood). The FIFO now holds at most UNET_LIMITS.RX_BACKLOG
// messages of one endpoint from one node, so the victim waits behind at most that many of the flood's.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { program } from '../../userland/lib/runtime.ts';
import { UNET_LIMITS } from '../../hw/unet/layout.ts';
import { unetBuffer, unetCreate, unetFlush, unetOpen, unetReceive, unetRelease, unetSend, unetSendsPending } from '../../userland/lib/unet.ts';

function roundTripAfter(floodNs: number | null): number {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [4] }, seed: 1 });
  const s = { ns: -1, stop: false, ready: false };
  const victim = program('victim', function* (env) {
    const rank = yield* env.sys.getrank();
    const peer = (yield* env.sys.jobMap())[1 - rank];
    const ep = yield* unetCreate(env, { entries: 8 });
    yield* unetOpen(env, ep, 0, { nid: peer.nid, pid: peer.pid, ep: ep.id, chan: 0 });
    if (rank === 0) {
      if (floodNs !== null) { while (!s.ready) yield* env.sys.nanosleep(5_000); yield* env.sys.nanosleep(floodNs); }
      const t0 = yield* env.sys.clockNs();
      yield* unetSend(env, ep, 0, unetBuffer(ep, 0), 0);
      const m = yield* unetReceive(env, ep);
      yield* unetRelease(env, ep, m);
      s.ns = (yield* env.sys.clockNs()) - t0;
      s.stop = true;
    } else {
      const m = yield* unetReceive(env, ep);
      yield* unetRelease(env, ep, m);
      yield* unetSend(env, ep, 0, unetBuffer(ep, 0), 0);
    }
    yield* unetFlush(env, ep);
    return 0;
  });
  const attacker = program('attacker', function* (env) {
    const rank = yield* env.sys.getrank();
    const peer = (yield* env.sys.jobMap())[1 - rank];
    const ep = yield* unetCreate(env, { entries: 1024, bufBytes: 64 });
    yield* unetOpen(env, ep, 0, { nid: peer.nid, pid: peer.pid, ep: ep.id, chan: 0 });
    if (rank === 1) { while (!s.stop) yield* env.sys.nanosleep(50_000); return 0; } // never polls
    s.ready = true;
    while (!s.stop) {
      if ((yield* unetSendsPending(env, ep)) < 512) yield* unetSend(env, ep, 0, ep.queues.buffers, 0);
      else yield* env.compute(500);
    }
    return 0;
  });
  const bad = floodNs !== null ? sys.launchDirect(attacker, [0, 1], [], 1000) : null;
  const job = sys.launchDirect(victim, [2, 1], [], 2000); // victim rank 0 on node 2, rank 1 on node 1 (beside the flooded endpoint)
  sys.run({ until: 10e12, done: () => sys.jobDone(job) && (bad === null || sys.jobDone(bad)) });
  return s.ns;
}

describe('the U-Net receive engine under a flood', () => {
  it('delays another uid\'s round trip by at most a full FIFO share of the flood, however long the flood has run', () => {
    const v = getProfile('redstorm').values;
    // Each flood message ahead of the victim's costs the receive engine at most a demux, a free-buffer fetch and a write-back.
    const perMessageNs = (v['unet.rxDemuxPs'] + v['unet.descDmaPs'] + v['unet.writebackPs']) / 1000;
    const alone = roundTripAfter(null);
    const after = [100_000, 1_000_000, 4_000_000].map((t) => roundTripAfter(t));
    expect(alone).toBeGreaterThan(0);
    for (const ns of after) {
      expect(ns).toBeGreaterThan(0); // the victim's messages got through
      expect(ns).toBeLessThan(alone + UNET_LIMITS.RX_BACKLOG * perMessageNs);
    }
  });
});
