// Found by review (issue #13). AM over U-Net under a flood of 300 small AMs while the receiver computes:
// the receive queue (64 slots) overflows, the NIC counts the losses in the
// segment's DROPS word, but am.stats.dropped (and so the apps' am_dropped)
// stays 0. The 5 requests after the flood do get through.
import { describe, expect, it } from 'vitest';
import { amStart } from '../../userland/lib/am/am.ts';
import { AM_KIND, encodeHeader } from '../../userland/lib/am/wire.ts';
import { runAm } from './harness.ts';

describe.each([300])('AM over U-Net, flooded with %i messages while not polling', (FLOOD) => {
  it('handles or counts every flood message, and handles the requests that come after the flood', () => {
    const s = { late: 0, flood: 0, dropped: -1, polls: 0, lateSent: false };
    const r = runAm('unet', 2, function* (env, t) {
      const am = yield* amStart(env, t, [
        function* flood() { s.flood++; },
        function* late() { s.late++; },
      ]);
      if (t.rank === 0) {
        const page = yield* env.mem.alloc(64);
        yield* env.mem.store(page, encodeHeader({ kind: AM_KIND.REQUEST, handler: 0, src: 0, dataLen: 0, args: [] }));
        for (let i = 0; i < FLOOD; i++) yield* t.send(1, new Uint8Array(0), page, 48);
        yield* t.flush();
        yield* env.sys.nanosleep(20_000_000);
        for (let i = 0; i < 5; i++) yield* am.request(1, 1);
        yield* am.flush();
        s.lateSent = true;
        yield* env.sys.nanosleep(5_000_000);
        return 0;
      }
      yield* env.compute(20_000_000); // ~10 ms of work without polling
      while (!s.lateSent) { yield* am.poll(); yield* env.compute(2000); s.polls++; }
      for (let i = 0; i < 2000 && s.late < 5; i++) { yield* am.poll(); yield* env.compute(2000); s.polls++; }
      s.dropped = am.stats.dropped;
      return 0;
    });

    expect(r.ranks[1].status).toBe(0);
    expect(s.flood + s.dropped).toBe(FLOOD);
    expect(s.late).toBe(5);
  });
});
