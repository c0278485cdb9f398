// Found by review (issue #13). Active Messages over U-Net: the doc says token.src is "the transport's word":
// "channel r leads to rank r, and the NIC delivers on a channel only what its
// peer sent". But a direct-access send names ANY offset of the receiver's
// segment (checked only against the segment's length), and the segment holds
// the receiver's own queues. Rank 1 writes forged receive descriptors
// (chan 2) and then the receiver's RECV_TAIL: the receiver's AM layer runs a
// request "from rank 2" that rank 2 never sent; a second variant posts a
// descriptor with a huge length and kills the receiver.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { amStart } from '../../userland/lib/am/am.ts';
import { amOverUnet } from '../../userland/lib/am/unet.ts';
import { AM_KIND, encodeHeader } from '../../userland/lib/am/wire.ts';
import { program } from '../../userland/lib/runtime.ts';
import { UNET_DESC, UNET_FLAG, UNET_HDR, UNET_STATUS } from '../../hw/unet/layout.ts';
import { type UnetEndpoint, unetBuffer, unetFlush, unetPoll, unetRelease, unetSend } from '../../userland/lib/unet.ts';
import { waitFor } from '../security/attack.ts';

const words = (...w: number[]) => { const b = new Uint8Array(4 * w.length); const dv = new DataView(b.buffer); w.forEach((x, i) => dv.setUint32(4 * i, x >>> 0, true)); return b; };

function run(variant: 'forge' | 'huge') {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [4] }, seed: 1 });
  const s = { ready: false, attacked: false, seen: [] as string[], dropped: -1, refusedAtNic: -1, told: 0, victimDone: false };
  const prog = program('amjob', function* (env) {
    const t = yield* amOverUnet(env);
    const am = yield* amStart(env, t, [
      function* h0(token, ...args) { s.seen.push(`h0 src=${token.src} args=${JSON.stringify(args)}`); },
    ]);
    if (t.rank === 0) {
      s.ready = true;
      for (let i = 0; i < 5000 && !s.attacked; i++) { yield* am.poll(); yield* env.compute(2000); }
      for (let i = 0; i < 100; i++) { yield* am.poll(); yield* env.compute(2000); }
      s.dropped = am.stats.dropped;
      s.refusedAtNic = sys.kernel(0).node.nic.unet.allEndpoints()[0].stats.directRefused;
      s.victimDone = true;
      return 0;
    }
    if (t.rank === 2) { yield* waitFor(env, () => s.attacked); return 0; }
    try {
    // rank 1: raw direct-access sends on its channel 0 (to rank 0), into rank 0's queues.
    yield* waitFor(env, () => s.ready);
    const ep = (t as unknown as { ep: UnetEndpoint }).ep;
    const q = ep.queues; // same entries on every rank (SPMD), so the same offsets
    const R10 = q.recv + 10 * UNET_DESC.SIZE;
    const send = function* (slot: number, bytes: Uint8Array, roffset: number) {
      const buf = unetBuffer(ep, slot);
      yield* env.mem.store(ep.va + buf, bytes);
      const st = ep.sendTail;
      yield* unetSend(env, ep, 0, buf, bytes.length, { direct: roffset });
      yield* unetFlush(env, ep);
      yield* env.compute(20000);
      s.seen.push(`send +${roffset}: status ${yield* env.mem.loadU32(ep.va + q.send + (st % ep.entries) * UNET_DESC.SIZE + UNET_DESC.STATUS)}`);
    };
    // 1: an AM request header parked in an unused receive slot area (the NIC posts it in slot 0: a real message from rank 1).
    yield* send(0, encodeHeader({ kind: AM_KIND.REQUEST, handler: 0, src: 1, dataLen: 0, args: [777] }), R10);
    // 2: receive descriptors for slots 2 and 3, written straight into rank 0's receive queue (posted in slot 1).
    const forged = variant === 'forge'
      ? words(2, UNET_FLAG.DIRECT, R10, 48, 0, UNET_STATUS.OK, 2, UNET_FLAG.DIRECT, R10, 48, 0, UNET_STATUS.OK)
      : words(1, UNET_FLAG.DIRECT, 0, 0xfffff000, 0, UNET_STATUS.OK, 1, UNET_FLAG.DIRECT, 0, 0xfffff000, 0, UNET_STATUS.OK);
    yield* send(1, forged, q.recv + 2 * UNET_DESC.SIZE);
    // 3: rank 0's RECV_TAIL := 4 (the NIC posts this message in slot 4): slots 2 and 3 become "received".
    yield* send(2, words(4), UNET_HDR.RECV_TAIL);
    for (let i = 0; i < 20 && s.told < 3; i++) {
      yield* env.compute(20000);
      for (let m = yield* unetPoll(env, ep); m !== null; m = yield* unetPoll(env, ep)) {
        if (m.status === UNET_STATUS.DIRECT_REFUSED) s.told++;
        yield* unetRelease(env, ep, m);
      }
    }
    } catch (e) { s.seen.push(`rank 1 threw: ${e}`); }
    s.attacked = true;
    return 0;
  });
  const job = sys.launchDirect(prog, [0, 1, 2], [], 1000);
  sys.run({ until: 1e12, done: () => sys.jobDone(job) });
  return { s, statuses: job.ranks.map((r) => `${r.process?.exitStatus} ${r.process?.exitReason ?? ""}`) };
}

describe('AM over U-Net: a peer rank writes the receiver\'s queues by direct access', () => {
  it('cannot forge the source rank of an Active Message (the NIC refuses a direct deposit into the queues)', () => {
    const { s } = run('forge');
    // rank 2 never sent anything
    expect(s.seen.filter((x) => x.startsWith('h0 src=2'))).toEqual([]);
    expect(s.seen.filter((x) => x.startsWith('h0'))).toEqual([]);
    // AM declares no direct-access area: rank 0's NIC drops the three direct deposits and counts them, so none reaches AM at all.
    expect(s.refusedAtNic).toBe(3);
    expect(s.dropped).toBe(0);
    // ...and rank 1 is told each was refused.
    expect(s.told).toBe(3);
  });
  it('cannot kill the receiver with a forged length', () => {
    const { s, statuses } = run('huge');
    expect(s.victimDone).toBe(true);
    expect(statuses[0]).toMatch(/^0/);
  });
});
