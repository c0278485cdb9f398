// Found by review (issue #13). AM over U-Net: rank r's endpoint opens channel q to rank q for q != r, so its
// channel r (to itself) stays unopened. A process of ANOTHER JOB with the same
// uid opens its own channel to the victim's (endpoint 1, channel 0): the
// victim's kernel accepts (same uid is the only check) without the victim
// doing anything, and the foreign process's AMs arrive on channel 0 -- which
// the AM layer takes for "rank 0", i.e. the victim itself.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { amStart } from '../../userland/lib/am/am.ts';
import { amOverUnet } from '../../userland/lib/am/unet.ts';
import { AM_KIND, encodeHeader } from '../../userland/lib/am/wire.ts';
import { program } from '../../userland/lib/runtime.ts';
import { unetCreate, unetFlush, unetOpen, unetSend } from '../../userland/lib/unet.ts';
import { waitFor } from '../security/attack.ts';

describe('AM over U-Net, from another job of the same uid', () => {
  it('is not taken for a member of the job: its message on the channel AM never opened is dropped and counted', () => {
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [4] }, seed: 1 });
    const s = { ready: false, attacked: false, seen: [] as string[], dropped: -1 };
    const victim = program('victim', function* (env) {
      const t = yield* amOverUnet(env);
      const am = yield* amStart(env, t, [
        function* h0(token, ...args) { s.seen.push(`h0 src=${token.src} args=${JSON.stringify(args)}`); },
      ]);
      if (t.rank !== 0) { yield* waitFor(env, () => s.attacked); return 0; }
      s.ready = true;
      for (let i = 0; i < 5000 && !s.attacked; i++) { yield* am.poll(); yield* env.compute(2000); }
      for (let i = 0; i < 100; i++) { yield* am.poll(); yield* env.compute(2000); }
      s.dropped = am.stats.drops.lost;
      return 0;
    });
    const job = sys.launchDirect(victim, [0, 1], [], 1000);
    const foreign = program('foreign', function* (env) {
      yield* waitFor(env, () => s.ready);
      const ep = yield* unetCreate(env, { entries: 8, bufBytes: 128 });
      const v = job.ranks[0].process!;
      const rc = yield* unetOpen(env, ep, 0, { nid: 0, pid: v.pid, ep: 1, chan: 0 });
      const buf = ep.queues.buffers;
      yield* env.mem.store(ep.va + buf, encodeHeader({ kind: AM_KIND.REQUEST, handler: 0, src: 0, dataLen: 0, args: [4242] }));
      yield* unetSend(env, ep, 0, buf, 48);
      yield* unetFlush(env, ep);
      s.seen.push(`foreign: open ${rc}`);
      yield* env.sys.nanosleep(100_000);
      s.attacked = true;
      return 0;
    });
    const other = sys.launchDirect(foreign, [2], [], 1000);
    sys.run({ until: 1e12, done: () => sys.jobDone(job) && sys.jobDone(other) });
    expect(s.seen).toContain('foreign: open undefined');
    expect(s.seen.filter((x) => x.startsWith('h0'))).toEqual([]);
    expect(s.dropped).toBe(1);
  });
});
