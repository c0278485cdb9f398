// Review 13, finding 2: AM's openToRank closes a channel another job of the same uid had taken, then reads
// RECV_TAIL as the position from which the channel is its rank's. The NIC's receive engine writes a message
// back some hundreds of ns after it demultiplexed it, so a message of the other job demultiplexed before the
// close used to be posted after that load, where AM believed it was rank 1's, and ran as one from rank 1.
// The NIC now checks at every step after the demultiplexing that the tag still leads to the same channel.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { amStart } from '../../userland/lib/am/am.ts';
import { amOverUnet } from '../../userland/lib/am/unet.ts';
import { AM_KIND, encodeHeader } from '../../userland/lib/am/wire.ts';
import { program } from '../../userland/lib/runtime.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { unetCreate, unetSend, unetSendsPending } from '../../userland/lib/unet.ts';

// Paces swept: the race is a matter of timing (without the NIC's check, redstorm 2500 and 4000 hit it).
describe.each([
  ...[0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 6000].map((p) => ['redstorm', p] as const), ...[0, 2000, 4000, 8000, 12000, 16000].map((p) => ['atm95', p] as const),
])('AM over U-Net set-up on %s, foreign pace %i cycles', (profile, pace) => {
  it('runs nothing that another job of the same uid kept sending on a channel the rank took back', () => {
    const sys = new System({ profile: getProfile(profile as string), shape: { kind: 'mesh', dims: [4] }, seed: 1 });
    const s = { seen: [] as string[], done: false, sent: 0 };
    const victim = program('victim', function* (env) {
      if ((yield* env.sys.getrank()) === 1) yield* env.sys.nanosleep(300_000); // a slow rank 1
      const t = yield* amOverUnet(env);
      const am = yield* amStart(env, t, [
        function* h0(token, ...args) { s.seen.push(`rank ${t.rank}: h0 src=${token.src} args=${JSON.stringify(args)}`); },
      ]);
      for (let i = 0; i < 300; i++) { yield* am.poll(); yield* env.compute(2000); }
      s.done = true;
      return 0;
    });
    const job = sys.launchDirect(victim, [0, 1], [], 1000);
    const foreign = program('foreign', function* (env) {
      const ep = yield* unetCreate(env, { entries: 8, bufBytes: 128 });
      yield* env.sys.nanosleep(30_000);
      const v = job.ranks[0].process!;
      let rc = -1;
      for (let i = 0; i < 100_000 && rc !== 0 && !s.done; i++) {
        rc = yield* env.sys.raw(SYS.unet_open, ep.id, 0, 0, v.pid, 1, 1);
        if (rc !== 0) yield* env.compute(500);
      }
      if (rc !== 0) return 1;
      s.seen.push('foreign: opened channel 1 of rank 0');
      // Flood channel 1 until the run ends (sends after the CLOSE come back BAD_CHANNEL; that is fine).
      for (let i = 0; !s.done && i < 20000; i++) {
        while ((yield* unetSendsPending(env, ep)) >= ep.entries) yield* env.compute(50);
        const buf = ep.queues.buffers + (ep.sendTail % ep.entries) * 128;
        yield* env.mem.store(ep.va + buf, encodeHeader({ kind: AM_KIND.REQUEST, handler: 0, src: 1, dataLen: 0, args: [666] }));
        yield* unetSend(env, ep, 0, buf, 48);
        s.sent++;
        if (pace > 0) yield* env.compute(pace as number);
      }
      while (!s.done) yield* env.sys.nanosleep(50_000);
      return 0;
    });
    const other = sys.launchDirect(foreign, [2], [], 1000);
    sys.run({ until: 1e13, done: () => sys.jobDone(job) && sys.jobDone(other) });
    expect(s.sent).toBeGreaterThan(0);
    expect(s.seen).toContain('foreign: opened channel 1 of rank 0');
    expect(s.seen.filter((x) => x.includes('h0'))).toEqual([]);
  });
});
