// Review 3 of #13: while rank 0 of a job waits to retry its open of channel 1 (rank 1's endpoint does not exist
// yet: ECONNREFUSED, 20 us sleep), a process of ANOTHER JOB of the same uid opens channel 1 of rank 0's endpoint
// and sends an Active Message on it at once. Rank 0's retry gets EBUSY, closes that end and opens it to rank 1
// (openToRank), but the message already in its receive queue arrived on channel 1: the set-up barrier keeps it
// and rank 0's AM layer runs it as a message from rank 1.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { amStart } from '../../userland/lib/am/am.ts';
import { amOverUnet } from '../../userland/lib/am/unet.ts';
import { AM_KIND, encodeHeader } from '../../userland/lib/am/wire.ts';
import { program } from '../../userland/lib/runtime.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { unetCreate, unetFlush, unetSend } from '../../userland/lib/unet.ts';

describe('AM over U-Net set-up', () => {
  it('does not run what another job of the same uid sent on a channel before the rank took it back', () => {
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [4] }, seed: 1 });
    const s = { seen: [] as string[], done: false };
    const victim = program('victim', function* (env) {
      if ((yield* env.sys.getrank()) === 1) yield* env.sys.nanosleep(300_000); // a slow rank 1
      const t = yield* amOverUnet(env);
      const am = yield* amStart(env, t, [
        function* h0(token, ...args) { s.seen.push(`rank ${t.rank}: h0 src=${token.src} args=${JSON.stringify(args)}`); },
      ]);
      for (let i = 0; i < 200; i++) { yield* am.poll(); yield* env.compute(2000); }
      s.done = true;
      return 0;
    });
    const job = sys.launchDirect(victim, [0, 1], [], 1000);
    const foreign = program('foreign', function* (env) {
      const ep = yield* unetCreate(env, { entries: 8, bufBytes: 128 });
      yield* env.sys.nanosleep(30_000);
      const v = job.ranks[0].process!;
      // Retry while rank 0's endpoint does not exist (ECONNREFUSED) or its own open of channel 1 is pending (EBUSY).
      let rc = -1;
      for (let i = 0; i < 100_000 && rc !== 0 && !s.done; i++) {
        rc = yield* env.sys.raw(SYS.unet_open, ep.id, 0, 0, v.pid, 1, 1);
        if (rc !== 0) yield* env.compute(500);
      }
      if (rc !== 0) return 1;
      s.seen.push('foreign: opened channel 1 of rank 0');
      const buf = ep.queues.buffers;
      yield* env.mem.store(ep.va + buf, encodeHeader({ kind: AM_KIND.REQUEST, handler: 0, src: 1, dataLen: 0, args: [666] }));
      yield* unetSend(env, ep, 0, buf, 48);
      yield* unetFlush(env, ep);
      while (!s.done) yield* env.sys.nanosleep(50_000);
      return 0;
    });
    const other = sys.launchDirect(foreign, [2], [], 1000);
    sys.run({ until: 1e12, done: () => sys.jobDone(job) && sys.jobDone(other) });
    expect(s.seen).toContain('foreign: opened channel 1 of rank 0');
    expect(s.seen.filter((x) => x.includes('h0'))).toEqual([]);
  });
});
