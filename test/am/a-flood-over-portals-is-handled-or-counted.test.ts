// Issue 13: AM over Portals lost messages in a flood without counting them
// (lost() returned 0). Portals tells the receiver what it dropped: events
// lost with the EQ full (PTL_EQ_DROPPED; the rings' counting event says how
// many deposits there were) and messages that found no ring
// (PTL_SR_DROP_COUNT). Every flood message is now handled or counted.
import { describe, expect, it } from 'vitest';
import { amStart } from '../../userland/lib/am/am.ts';
import { AM_KIND, encodeHeader } from '../../userland/lib/am/wire.ts';
import { runAm } from './harness.ts';

// 600 small messages overflow the 256-slot EQ (events lost); 300 of 4 KiB fill both rings (no match, dropped by the kernel).
describe.each([
  [600, 0, 'its EQ overflows'],
  [300, 4096, 'both receive rings fill'],
])('AM over Portals, flooded with %i messages of %i data bytes while not polling (%s)', (FLOOD, DATA, _why) => {
  it('handles or counts as lost every flood message, and handles the requests that come after the flood', () => {
    const s = { late: 0, flood: 0, lost: -1, dropped: -1, lateSent: false };
    const r = runAm('portals', 2, function* (env, t) {
      const am = yield* amStart(env, t, [
        function* flood() { s.flood++; },
        function* late() { s.late++; },
      ]);
      if (t.rank === 0) {
        const page = yield* env.mem.alloc(48 + DATA);
        yield* env.mem.store(page, encodeHeader({ kind: AM_KIND.REQUEST, handler: 0, src: 0, dataLen: DATA, args: [] }));
        for (let i = 0; i < FLOOD; i++) yield* t.send(1, new Uint8Array(0), page, 48 + DATA);
        yield* t.flush();
        yield* env.sys.nanosleep(20_000_000);
        for (let i = 0; i < 5; i++) yield* am.request(1, 1);
        yield* am.flush();
        s.lateSent = true;
        yield* env.sys.nanosleep(5_000_000);
        return 0;
      }
      yield* env.compute(20_000_000); // ~10 ms of work without polling
      while (!s.lateSent) { yield* am.poll(); yield* env.compute(2000); }
      for (let i = 0; i < 2000 && s.late < 5; i++) { yield* am.poll(); yield* env.compute(2000); }
      s.lost = am.stats.drops.lost;
      s.dropped = am.stats.dropped;
      return 0;
    });

    expect(r.ranks[1].status).toBe(0);
    expect(s.lost).toBeGreaterThan(0);
    expect(s.flood + s.dropped).toBe(FLOOD);
    // Small messages run; what was not lost was handled. (A 4 KiB request is dropped unrun: its data goes to no exposed memory.)
    if (DATA === 0) expect(s.flood + s.lost).toBe(FLOOD);
    expect(s.late).toBe(5);
  });
});
