// Review 13, finding 4 (second half): a DIRECT_REFUSED notice used to be queued on the receiving NIC's send
// engine as control work, ahead of every endpoint's descriptors, one per refused deposit. A uid-1000 process
// on node 0 flooding zero-byte direct deposits at its own endpoint on node 1 (which declares no area) made
// node 1's NIC send a notice per deposit ahead of a uid-2000 process's stream from node 1 (atm95: 13.25 ms
// alone, 32.76 ms under that flood). Notices are now the refusing endpoint's work, in its turns, at most one
// waiting per channel. Measures the victim's stream (node 1 -> node 2, 200 x 1 KiB) alone and under the flood.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { program } from '../../userland/lib/runtime.ts';
import { unetBuffer, unetCreate, unetFlush, unetOpen, unetReceive, unetRelease, unetSend, unetSendsPending } from '../../userland/lib/unet.ts';

function stream(attack: false | 'direct' | 'plain', profile: string): { ns: number; flood: number } {
  const sys = new System({ profile: getProfile(profile), shape: { kind: 'mesh', dims: [4] }, seed: 1 });
  const s = { ns: -1, stop: false, flood: 0, ready: false };
  const victim = program('victim', function* (env) {
    const rank = yield* env.sys.getrank();
    const peer = (yield* env.sys.jobMap())[1 - rank];
    const ep = yield* unetCreate(env, { entries: 32, bufBytes: 1024 });
    yield* unetOpen(env, ep, 0, { nid: peer.nid, pid: peer.pid, ep: ep.id, chan: 0 });
    if (rank === 0) {
      while (attack && !s.ready) yield* env.sys.nanosleep(10_000);
      const t0 = yield* env.sys.clockNs();
      for (let i = 0; i < 200; i++) {
        while (!(yield* unetSend(env, ep, 0, unetBuffer(ep, i % 32), 1024))) yield* env.compute(50);
      }
      const m = yield* unetReceive(env, ep); // the receiver's answer after the 200th
      yield* unetRelease(env, ep, m);
      s.ns = (yield* env.sys.clockNs()) - t0;
      s.stop = true;
    } else {
      let n = 0;
      while (n < 200) { const m = yield* unetReceive(env, ep); yield* unetRelease(env, ep, m); n++; }
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
    if (rank === 1) { while (!s.stop) yield* env.sys.nanosleep(50_000); return 0; } // no direct-access area
    s.ready = true;
    while (!s.stop) {
      if ((yield* unetSendsPending(env, ep)) < 512) { yield* unetSend(env, ep, 0, ep.queues.buffers, 0, attack === 'direct' ? { direct: 0 } : {}); s.flood++; }
      else yield* env.compute(500);
    }
    return 0;
  });
  const bad = attack ? sys.launchDirect(attacker, [0, 1], [], 1000) : null;
  const job = sys.launchDirect(victim, [1, 2], [], 2000);
  sys.run({ until: 10e12, done: () => sys.jobDone(job) && (bad === null || sys.jobDone(bad)) });
  return { ns: s.ns, flood: s.flood };
}

describe('refused direct deposits', () => {
  it.each(['redstorm', 'atm95'])('slow another uid\'s sends on the refusing node by less than a quarter (%s)', (profile) => {
    const alone = stream(false, profile);
    // The same flood of zero-byte messages, but base level (no notices: they fill B's queue and are dropped there).
    const plain = stream('plain', profile);
    const flooded = stream('direct', profile);
    expect(alone.ns).toBeGreaterThan(0);
    expect(plain.ns).toBeGreaterThan(0);
    expect(flooded.flood).toBeGreaterThan(100);
    expect(flooded.ns).toBeLessThan(alone.ns * 1.25);
  });
});
