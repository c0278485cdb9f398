// Review 3 of #13: after rank 1 exits, its CLOSE deletes channel 1 on rank 0's endpoint (rank 0 opened it).
// A process of ANOTHER JOB of the same uid then opens channel 1 of rank 0's endpoint (accepted: uid only),
// and rank 0's AM layer still believes channel 1 is "rank 1" (opened() is chan < size && chan != rank).
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { amStart } from '../../userland/lib/am/am.ts';
import { amOverUnet } from '../../userland/lib/am/unet.ts';
import { AM_KIND, encodeHeader } from '../../userland/lib/am/wire.ts';
import { program } from '../../userland/lib/runtime.ts';
import { unetCreate, unetFlush, unetOpen, unetSend } from '../../userland/lib/unet.ts';

describe('AM over U-Net: the channel of a rank that exited', () => {
  it('is not handed to another job of the same uid as that rank', () => {
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [4] }, seed: 1 });
    const s = { rank1Gone: false, attacked: false, seen: [] as string[], lost: -1 };
    const victim = program('victim', function* (env) {
      const t = yield* amOverUnet(env);
      const am = yield* amStart(env, t, [
        function* h0(token, ...args) { s.seen.push(`h0 src=${token.src} args=${JSON.stringify(args)}`); },
      ]);
      if (t.rank === 1) return 0; // rank 1 is done: its endpoint goes, rank 0's channel 1 is closed by the CLOSE
      for (let i = 0; i < 5000 && !s.attacked; i++) { yield* am.poll(); yield* env.compute(2000); }
      for (let i = 0; i < 100; i++) { yield* am.poll(); yield* env.compute(2000); }
      s.lost = am.stats.drops.lost;
      return 0;
    });
    const job = sys.launchDirect(victim, [0, 1], [], 1000);
    const foreign = program('foreign', function* (env) {
      yield* env.sys.nanosleep(300_000); // rank 1 has exited by now
      const ep = yield* unetCreate(env, { entries: 8, bufBytes: 128 });
      const v = job.ranks[0].process!;
      yield* unetOpen(env, ep, 0, { nid: 0, pid: v.pid, ep: 1, chan: 1 });
      s.seen.push('foreign: opened channel 1 of rank 0');
      const buf = ep.queues.buffers;
      yield* env.mem.store(ep.va + buf, encodeHeader({ kind: AM_KIND.REQUEST, handler: 0, src: 1, dataLen: 0, args: [4242] }));
      yield* unetSend(env, ep, 0, buf, 48);
      yield* unetFlush(env, ep);
      yield* env.sys.nanosleep(100_000);
      s.attacked = true;
      return 0;
    });
    const other = sys.launchDirect(foreign, [2], [], 1000);
    sys.run({ until: 1e12, done: () => sys.jobDone(job) && sys.jobDone(other) });
    expect(s.seen.filter((x) => x.startsWith('h0'))).toEqual([]);
  });
});
