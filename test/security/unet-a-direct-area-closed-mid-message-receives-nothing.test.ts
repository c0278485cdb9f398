// Review 13, finding 3: KERNEL-BYPASS.md says the NIC "checks the words [DIRECT_BASE/DIRECT_LEN] at the
// moment it deposits, so there is no window between a check and the write". receive.ts used to check the area
// when the message's HEAD arrived and write the bytes when the TAIL had arrived: on atm95 a 60000-byte
// deposit's tail comes ~3.8 ms after its head, and a receiver that closed its area 300 us after the send still
// got all of it, posted OK. The NIC now checks again at the moment the bytes are written.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { program } from '../../userland/lib/runtime.ts';
import { UNET_STATUS, unetCreate, unetDirectArea, unetFlush, unetOpen, unetPoll, unetSend } from '../../userland/lib/unet.ts';

const N = 60000;

describe('a direct-access area closed while a deposit is on its way', () => {
  it('receives nothing in the closed area, and the sender is told its deposit was refused', () => {
    const sys = new System({ profile: getProfile('atm95'), shape: { kind: 'mesh', dims: [3] }, seed: 1 });
    const s = { sentAt: 0, closedAt: 0, nonzeroAtClose: -1, nonzero: 0, posted: [] as string[], senderSaw: [] as number[] };
    const prog = program('dtoctou', function* (env) {
      const rank = yield* env.sys.getrank();
      const map = yield* env.sys.jobMap();
      const peer = map[1 - rank];
      const ep = yield* unetCreate(env, { entries: 8, bufBytes: 256, directBytes: N });
      yield* unetOpen(env, ep, 0, { nid: peer.nid, pid: peer.pid, ep: ep.id, chan: 0 });
      if (rank === 0) {
        yield* env.mem.store(ep.va + ep.direct.offset, new Uint8Array(N).fill(0xab));
        yield* unetSend(env, ep, 0, ep.direct.offset, N, { direct: ep.direct.offset });
        s.sentAt = yield* env.sys.clockNs();
        yield* unetFlush(env, ep);
        yield* env.sys.nanosleep(20_000_000);
        for (;;) {
          const m = yield* unetPoll(env, ep);
          if (m === null) break;
          s.senderSaw.push(m.status);
          ep.recvHead = (ep.recvHead + 1) >>> 0;
        }
        return 0;
      }
      while (s.sentAt === 0) yield* env.sys.nanosleep(10_000); // (test coordination only)
      yield* env.sys.nanosleep(300_000); // the head has arrived and was checked against the open area
      yield* unetDirectArea(env, ep, ep.direct.offset, 0); // close the area: "no peer may deposit here now"
      s.closedAt = yield* env.sys.clockNs();
      s.nonzeroAtClose = (yield* env.mem.load(ep.va + ep.direct.offset, N)).filter((b) => b !== 0).length; // 0: nothing landed yet
      yield* env.sys.nanosleep(10_000_000);
      const bytes = yield* env.mem.load(ep.va + ep.direct.offset, N);
      s.nonzero = bytes.filter((b) => b !== 0).length;
      for (;;) {
        const m = yield* unetPoll(env, ep);
        if (m === null) break;
        s.posted.push(`chan ${m.chan} status ${m.status} len ${m.len}`);
        ep.recvHead = (ep.recvHead + 1) >>> 0;
      }
      return 0;
    });
    const job = sys.launchDirect(prog, [0, 1], [], 1000);
    sys.run({ until: 1e13, done: () => sys.jobDone(job) });
    expect(s.closedAt).toBeGreaterThan(0);
    expect(s.nonzeroAtClose).toBe(0);
    expect(s.nonzero).toBe(0);
    expect(s.posted).toEqual([]);
    expect(s.senderSaw).toEqual([UNET_STATUS.DIRECT_REFUSED]);
  });
});
