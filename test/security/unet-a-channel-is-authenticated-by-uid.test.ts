// Issue 13: the kernel authenticates a U-Net channel by the peer's uid, not
// its job. The decision (docs/SECURITY.md, docs/KERNEL-BYPASS.md): the uid is
// U-Net's protection domain, as it is Portals' and the name server's; so a
// raw U-Net program believes only the channels it opened itself. These tests
// pin both halves: what another process of the user can do, and what the
// owner sees of it (the channel index, and EBUSY when it opens that channel).

import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../userland/lib/abi.gen.ts';
import { UNET_STATUS, type UnetEndpoint, UnetError, unetCreate, unetFlush, unetOpen, unetPoll, unetRelease, unetSend } from '../../userland/lib/unet.ts';
import type { Env } from '../../userland/lib/runtime.ts';
import { machine, spawn, waitFor } from './attack.ts';

function* tryOpen(env: Env, ep: UnetEndpoint, chan: number, peer: { nid: number; pid: number; ep: number; chan: number }) {
  try {
    yield* unetOpen(env, ep, chan, peer, { waitNs: 0 });
    return 0;
  } catch (e) {
    return -(e as UnetError).errno;
  }
}

describe('U-Net channels are authenticated by uid', () => {
  it('lets another process of the same user open a free channel of an endpoint; the owner sees it on that channel index and gets EBUSY opening it elsewhere', () => {
    const sys = machine(2);
    const s = { ready: false, sent: false, ownerTried: false, intruderOpen: 1, ownerOpen: 1, otherUidOpen: 1, got: [] as string[] };
    let intruderPid = 0;
    const owner = spawn(sys, 0, 1, 'owner', function* (env) {
      const ep = yield* unetCreate(env, { entries: 8 });
      s.ready = true;
      yield* waitFor(env, () => s.sent);
      yield* env.sys.nanosleep(50_000);
      for (let m = yield* unetPoll(env, ep); m !== null; m = yield* unetPoll(env, ep)) {
        s.got.push(`chan ${m.chan} status ${m.status} len ${m.len}`);
        yield* unetRelease(env, ep, m);
      }
      // The channel it meant for its own partner is taken: the kernel says so.
      s.ownerOpen = yield* tryOpen(env, ep, 5, { nid: 1, pid: intruderPid + 1000, ep: 1, chan: 5 });
      s.ownerTried = true;
    });
    const intruder = spawn(sys, 1, 1, 'same-uid', function* (env) {
      const ep = yield* unetCreate(env, { entries: 8 });
      yield* waitFor(env, () => s.ready);
      s.intruderOpen = yield* tryOpen(env, ep, 0, { nid: 0, pid: owner.pid, ep: 1, chan: 5 });
      if (s.intruderOpen === 0) {
        yield* unetSend(env, ep, 0, ep.queues.buffers, 16);
        yield* unetFlush(env, ep);
      }
      s.sent = true;
      // It holds the channel while the owner tries it (when it exits, its CLOSE frees the owner's channel index).
      yield* waitFor(env, () => s.ownerTried);
    });
    intruderPid = intruder.pid;
    spawn(sys, 1, 2, 'other-uid', function* (env) {
      const ep = yield* unetCreate(env, { entries: 8 });
      yield* waitFor(env, () => s.ready);
      s.otherUidOpen = yield* tryOpen(env, ep, 0, { nid: 0, pid: owner.pid, ep: 1, chan: 6 });
    });
    sys.run({ until: 1e12, done: () => !owner.alive && !intruder.alive });
    expect(s.intruderOpen).toBe(0);
    expect(s.got).toEqual([`chan 5 status ${UNET_STATUS.OK} len 16`]);
    expect(s.ownerOpen).toBe(-ERRNO.EBUSY);
    // Another uid is refused, as for a process that does not exist.
    expect(s.otherUidOpen).toBe(-ERRNO.ECONNREFUSED);
  });
});
