// Review 3 of #13: the NIC's send engine served an endpoint until its send queue was empty before it turned to
// the next endpoint or to the kernels' control messages. A uid-2 process on node 0 keeps its own send queue
// non-empty (1024 descriptors naming a channel it never opened: each is refused after one descriptor fetch,
// nothing goes on the wire) by moving SEND_TAIL ahead with one store every 50 us. A uid-1 process on the same
// node then could not even get its OPEN out: it waited for as long as the flood lasted (for ever, if endless).
import { describe, expect, it } from 'vitest';
import { UNET_DESC, UNET_HDR } from '../../hw/unet/layout.ts';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { program } from '../../userland/lib/runtime.ts';
import { unetCreate, unetFlush, unetOpen, unetReceive, unetRelease, unetSend } from '../../userland/lib/unet.ts';

const ENTRIES = 1024;
/** The flood's safety stop: far beyond what the victim should need. */
const FLOOD_CAP_NS = 20_000_000;

/** The victim's set-up and one round trip from node 0 to node 1: alone, beside the attacker not ringing (it shares the CPU), or flooding. */
function victimRoundTrip(attack: 'none' | 'quiet' | 'flood'): { ns: number; attackerSent: number } {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [4] }, seed: 1 });
  const s = { ns: -1, stop: false, attackerSent: 0 };
  const victim = program('victim', function* (env) {
    const rank = yield* env.sys.getrank();
    const peer = (yield* env.sys.jobMap())[1 - rank];
    if (rank === 0) yield* env.sys.nanosleep(100_000); // the flood is running by now
    const t0 = yield* env.sys.clockNs();
    const ep = yield* unetCreate(env, { entries: 8 });
    yield* unetOpen(env, ep, 0, { nid: peer.nid, pid: peer.pid, ep: ep.id, chan: 0 });
    if (rank === 0) {
      yield* unetSend(env, ep, 0, ep.queues.buffers, 0);
      const m = yield* unetReceive(env, ep);
      yield* unetRelease(env, ep, m);
      s.ns = (yield* env.sys.clockNs()) - t0;
      s.stop = true;
    } else {
      const m = yield* unetReceive(env, ep);
      yield* unetRelease(env, ep, m);
      yield* unetSend(env, ep, 0, ep.queues.buffers, 0);
    }
    yield* unetFlush(env, ep);
    return 0;
  });
  const attacker = program('attacker', function* (env) {
    const ep = yield* unetCreate(env, { entries: ENTRIES, bufBytes: 64 });
    // Every send slot: channel 7 (never opened), 0 bytes.
    for (let i = 0; i < ENTRIES; i++) yield* env.mem.storeU32(ep.va + ep.queues.send + i * UNET_DESC.SIZE + UNET_DESC.CHAN, 7);
    let tail = 0;
    const start = yield* env.sys.clockNs();
    while (!s.stop && (yield* env.sys.clockNs()) - start < FLOOD_CAP_NS) {
      const head = yield* env.mem.loadU32(ep.va + UNET_HDR.SEND_HEAD);
      if (((tail - head) >>> 0) < ENTRIES / 2) {
        s.attackerSent += ((head + ENTRIES - tail) >>> 0);
        tail = (head + ENTRIES) >>> 0;
        if (attack === 'flood') yield* env.mem.storeU32(ep.va + UNET_HDR.SEND_TAIL, tail); // one store: 1024 descriptors' work
      }
      yield* env.sys.nanosleep(50_000);
    }
    return 0;
  });
  const bad = attack !== 'none' ? sys.launchDirect(attacker, [0], [], 2000) : null;
  const job = sys.launchDirect(victim, [0, 1], [], 1000);
  sys.run({ until: 10e12, done: () => sys.jobDone(job) && (bad === null || sys.jobDone(bad)) });
  return { ns: s.ns, attackerSent: s.attackerSent };
}

describe('the U-Net send engine', () => {
  it('serves another uid in turn while one uid keeps its send queue full for ever', () => {
    const alone = victimRoundTrip('none');
    // The baseline: the attacker's process there but not ringing (it shares node 0's CPU, which costs the victim time).
    const quiet = victimRoundTrip('quiet');
    const flooded = victimRoundTrip('flood');
    expect(alone.ns).toBeGreaterThan(0);
    expect(flooded.attackerSent).toBeGreaterThanOrEqual(ENTRIES); // 1024 descriptors queued before the victim began
    // At most one attacker descriptor before each of the victim's few NIC steps, not the 1024 the flood keeps queued.
    const fetchNs = getProfile('redstorm').values['unet.descDmaPs'] / 1000;
    expect(flooded.ns - quiet.ns).toBeLessThan(8 * fetchNs);
  });
});
