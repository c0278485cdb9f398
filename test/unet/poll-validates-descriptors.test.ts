// unetPoll reads descriptors from a queue in the process's own memory, which
// anything in the process (a stray store, a bug) may have written: a
// descriptor the NIC could not have written comes back as BAD_BUFFER with no
// data, so no caller reads through a forged offset or length.
import { describe, expect, it } from 'vitest';
import { UNET_DESC, UNET_HDR } from '../../hw/unet/layout.ts';
import { UNET_FLAG, UNET_LIMITS, UNET_STATUS, unetBuffer, unetCreate, unetPoll, unetRelease } from '../../userland/lib/unet.ts';
import { runMain } from '../kernel/helpers.ts';

const words = (...w: number[]) => { const b = new Uint8Array(4 * w.length); const dv = new DataView(b.buffer); w.forEach((x, i) => dv.setUint32(4 * i, x >>> 0, true)); return b; };

describe('unetPoll on a receive queue written by something other than the NIC', () => {
  it('hands on a descriptor with a length past the segment, a queue offset or a bad channel as BAD_BUFFER with no data', () => {
    const got: string[] = [];
    const { p } = runMain(function* (env) {
      const ep = yield* unetCreate(env, { entries: 8, bufBytes: 128 });
      const forged = [
        [0, 0, unetBuffer(ep, 8), 0xfffff000, 0, UNET_STATUS.OK], // huge length
        [0, UNET_FLAG.DIRECT, 0, 48, 0, UNET_STATUS.OK], // the header and queues
        [0, 0, unetBuffer(ep, 0), 48, 0, UNET_STATUS.OK], // a send buffer, not a receive buffer
        [UNET_LIMITS.MAX_CHANNELS, 0, unetBuffer(ep, 8), 48, 0, UNET_STATUS.OK], // no such channel
        [3, 0, unetBuffer(ep, 9), 48, 0, UNET_STATUS.OK], // a descriptor the NIC could have written
      ];
      for (const [i, d] of forged.entries()) yield* env.mem.store(ep.va + ep.queues.recv + i * UNET_DESC.SIZE, words(...d));
      yield* env.mem.storeU32(ep.va + UNET_HDR.RECV_TAIL, forged.length);
      for (;;) {
        const m = yield* unetPoll(env, ep);
        if (m === null) break;
        got.push(`${m.status} ${m.len}`);
        yield* unetRelease(env, ep, m);
      }
      return 0;
    });
    expect(p.exitStatus).toBe(0);
    expect(got).toEqual([...Array(4).fill(`${UNET_STATUS.BAD_BUFFER} 0`), `${UNET_STATUS.OK} 48`]);
  });
});
