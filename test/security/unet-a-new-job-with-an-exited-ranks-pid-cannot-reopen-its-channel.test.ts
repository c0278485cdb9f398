// Review 13, finding 1: every rank of a yod-loaded job runs as pid 100 (monitor/launch.ts JOB_PID), so a
// new job of the same uid loaded onto the node of an exited rank has that rank's (nid, pid, endpoint
// handle, channel). Its unet_open used to re-tag and reopen the survivor's closed end, and the survivor's
// AM layer took the new job's message for one from its own rank 1. A channel's peer is now the peer
// process's incarnation (a per-node serial its kernel gives it), which a later process cannot share.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { launch } from '../../monitor/launch.ts';
import { System } from '../../system/system.ts';
import { amStart } from '../../userland/lib/am/am.ts';
import { amOverUnet } from '../../userland/lib/am/unet.ts';
import { AM_KIND, encodeHeader } from '../../userland/lib/am/wire.ts';
import { program } from '../../userland/lib/runtime.ts';
import { ERRNO } from '../../userland/lib/abi.gen.ts';
import { UnetError, unetCreate, unetFlush, unetOpen, unetSend } from '../../userland/lib/unet.ts';

describe('AM over U-Net: an exited rank\'s channel and pid reuse', () => {
  it('refuses a new job on the exited rank\'s node (same uid, same pid) the exited rank\'s channel', () => {
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [4] }, seed: 1 });
    const s = { rank1Gone: false, attacked: false, opened: false, refused: 0, seen: [] as string[] };
    const victim = program('victim13', function* (env) {
      const t = yield* amOverUnet(env);
      const am = yield* amStart(env, t, [
        function* h0(token, ...args) { s.seen.push(`h0 src=${token.src} args=${JSON.stringify(args)}`); },
      ]);
      if (t.rank === 1) { s.rank1Gone = true; return 0; } // rank 1 exits: rank 0's channel 1 is closed (peerGone)
      for (let i = 0; i < 40000 && !s.attacked; i++) { yield* am.poll(); yield* env.compute(2000); }
      for (let i = 0; i < 200; i++) { yield* am.poll(); yield* env.compute(2000); }
      return 0;
    });
    const job1 = launch(sys, { load: 'two-phase', fanout: { kind: 'binomial' }, programs: [victim], map: [{ firstNid: 0, count: 2, image: 0 }], argv: [], timeoutUs: 1_000_000 });
    sys.run({ until: 1e12, done: () => s.rank1Gone });
    sys.run({ until: sys.engine.now + 50e6 }); // 50 us: rank 1's process is gone, node 1 is free
    const foreign = program('foreign13', function* (env) {
      const ep = yield* unetCreate(env, { entries: 8, bufBytes: 128 }); // handle 1, like the rank's
      const me = yield* env.sys.getpid();
      s.seen.push(`foreign: pid ${me}`);
      try {
        yield* unetOpen(env, ep, 0, { nid: 0, pid: 100, ep: 1, chan: 1 });
        s.opened = true;
      } catch (e) {
        if (!(e instanceof UnetError)) throw e;
        s.refused = e.errno;
        s.attacked = true;
        return 0;
      }
      const buf = ep.queues.buffers;
      yield* env.mem.store(ep.va + buf, encodeHeader({ kind: AM_KIND.REQUEST, handler: 0, src: 1, dataLen: 0, args: [4242] }));
      yield* unetSend(env, ep, 0, buf, 48);
      yield* unetFlush(env, ep);
      yield* env.sys.nanosleep(100_000);
      s.attacked = true;
      return 0;
    });
    const job2 = launch(sys, { load: 'two-phase', fanout: { kind: 'binomial' }, programs: [foreign], map: [{ firstNid: 1, count: 1, image: 0 }], argv: [], timeoutUs: 1_000_000, jobId: 2 });
    sys.run({ until: sys.engine.now + 1e12, done: () => sys.jobDone(job1) && sys.jobDone(job2) });
    expect(s.seen).toContain('foreign: pid 100');
    expect(s.opened).toBe(false);
    expect(s.refused).toBe(ERRNO.EBUSY);
    expect(s.seen.filter((x) => x.startsWith('h0'))).toEqual([]);
  });
});
