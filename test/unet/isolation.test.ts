// U-Net set-up under attack and misuse: one user cannot take every endpoint
// of a NIC, a channel from an endpoint to itself carries messages, and a
// channel whose peer endpoint went away tells the sender so (an error
// status in its send queue) instead of losing its messages silently --
// and never hands them to whoever owns the peer's node next.

import { describe, expect, it } from 'vitest';
import { UNET_ENDPOINTS_PER_UID } from '../../kernel/unet/unet.ts';
import { ERRNO } from '../../userland/lib/abi.gen.ts';
import type { U } from '../../userland/lib/ops.ts';
import type { Env } from '../../userland/lib/runtime.ts';
import { UNET_STATUS, type UnetEndpoint, unetClose, unetCreate, unetDestroy, unetFlush, unetOpen, unetPoll, unetRelease, unetSend, unetSendStatus } from '../../userland/lib/unet.ts';
import { machine, spawn, waitFor } from '../security/attack.ts';
import { runMain } from '../kernel/helpers.ts';

/** errno of a U-Net library call that threw, 0 if it did not. */
function* errnoOf(f: () => U<unknown>): U<number> {
  try {
    yield* f();
    return 0;
  } catch (e) {
    return -(e as { errno: number }).errno;
  }
}

/** Polls `ep` for up to `tries` x 1 us; the messages' first bytes. */
function* collect(env: Env, ep: UnetEndpoint, tries: number): U<number[]> {
  const got: number[] = [];
  for (let i = 0; i < tries; i++) {
    const m = yield* unetPoll(env, ep);
    if (m === null) {
      yield* env.sys.nanosleep(1000);
      continue;
    }
    if (m.status === UNET_STATUS.OK) got.push((yield* env.mem.load(ep.va + m.offset, 1))[0]);
    yield* unetRelease(env, ep, m);
  }
  return got;
}

describe('U-Net endpoints on a shared node', () => {
  it(`refuses a user more than ${UNET_ENDPOINTS_PER_UID} endpoints with EMFILE, so another user can still create one`, () => {
    const sys = machine(1);
    const s = { grabbed: 0, refused: 0, done: false, victim: 1 };
    const hostile = spawn(sys, 0, 2, 'hostile', function* (env) {
      for (;;) {
        const r = yield* errnoOf(() => unetCreate(env, { entries: 4, bufBytes: 64 }));
        if (r !== 0) {
          s.refused = r;
          break;
        }
        s.grabbed++;
      }
      s.done = true;
      yield* waitFor(env, () => s.victim !== 1);
    });
    const victim = spawn(sys, 0, 1000, 'victim', function* (env) {
      yield* waitFor(env, () => s.done);
      s.victim = yield* errnoOf(() => unetCreate(env, { entries: 4, bufBytes: 64 }));
    });
    sys.run({ until: 1e12, done: () => !hostile.alive && !victim.alive });
    expect(s.grabbed).toBe(UNET_ENDPOINTS_PER_UID);
    expect(s.refused).toBe(-ERRNO.EMFILE);
    expect(s.victim).toBe(0);
  });
});

describe('a loopback channel', () => {
  it('carries messages from an endpoint to itself, on one channel and between two of its channels', () => {
    const got: number[][] = [];
    const { p } = runMain(function* (env) {
      const pid = yield* env.sys.getpid();
      const a = yield* unetCreate(env, {});
      yield* unetOpen(env, a, 3, { nid: 0, pid, ep: a.id, chan: 3 });
      yield* unetOpen(env, a, 1, { nid: 0, pid, ep: a.id, chan: 2 });
      yield* env.mem.store(a.va + a.queues.buffers, new Uint8Array([7, 8]));
      yield* unetSend(env, a, 3, a.queues.buffers, 1);
      yield* unetSend(env, a, 1, a.queues.buffers + 1, 1);
      yield* unetFlush(env, a);
      got.push(yield* collect(env, a, 50));
      got.push([yield* unetSendStatus(env, a, 0), yield* unetSendStatus(env, a, 1)]);
    });
    expect(p.exitStatus).toBe(0);
    expect(got).toEqual([[7, 8], [UNET_STATUS.OK, UNET_STATUS.OK]]);
  });
});

describe('a channel whose peer endpoint went away', () => {
  it('gives the sender BAD_CHANNEL in its send queue, and a new open reaches the peer\'s new endpoint', () => {
    const s = { destroyed: false, reopened: false, statuses: [] as number[], got: [] as number[], openRc: -1 };
    const { job } = runMain(
      function* (env) {
        const rank = yield* env.sys.getrank();
        const map = yield* env.sys.jobMap();
        const peer = { ...map[1 - rank], ep: 1, chan: 0 };
        const ep = yield* unetCreate(env, {});
        yield* unetOpen(env, ep, 0, peer);
        if (rank === 1) {
          yield* unetDestroy(env, ep);
          const again = yield* unetCreate(env, {});
          s.destroyed = true;
          yield* waitFor(env, () => s.reopened, 1000);
          yield* unetOpen(env, again, 0, peer);
          s.got = yield* collect(env, again, 200);
          return;
        }
        yield* waitFor(env, () => s.destroyed, 1000);
        yield* env.sys.nanosleep(50_000);
        yield* env.mem.store(ep.va + ep.queues.buffers, new Uint8Array([1, 2]));
        yield* unetSend(env, ep, 0, ep.queues.buffers, 1);
        yield* unetFlush(env, ep);
        s.statuses.push(yield* unetSendStatus(env, ep, 0));
        s.openRc = yield* errnoOf(() => unetOpen(env, ep, 0, peer));
        s.reopened = true;
        yield* unetSend(env, ep, 0, ep.queues.buffers + 1, 1);
        yield* unetFlush(env, ep);
        s.statuses.push(yield* unetSendStatus(env, ep, 1));
      },
      { ranks: 2 },
    );
    expect(job.ranks.map((r) => r.process!.exitStatus)).toEqual([0, 0]);
    expect(s.statuses).toEqual([UNET_STATUS.BAD_CHANNEL, UNET_STATUS.OK]);
    expect(s.openRc).toBe(0);
    expect(s.got).toEqual([2]);
  });

  it('lets the very process that closed its end open it again, and the survivor hears it on the same channel', () => {
    const s = { closed: false, openRc: -1, got: [] as number[] };
    const { job } = runMain(
      function* (env) {
        const rank = yield* env.sys.getrank();
        const map = yield* env.sys.jobMap();
        const peer = { ...map[1 - rank], ep: 1, chan: 0 };
        const ep = yield* unetCreate(env, {});
        yield* unetOpen(env, ep, 0, peer);
        if (rank === 1) {
          yield* unetClose(env, ep, 0);
          yield* env.sys.nanosleep(50_000); // the CLOSE has reached rank 0: its end is closed
          s.closed = true;
          s.openRc = yield* errnoOf(() => unetOpen(env, ep, 0, peer)); // same process: its incarnation re-binds the end
          yield* env.mem.store(ep.va + ep.queues.buffers, new Uint8Array([7]));
          yield* unetSend(env, ep, 0, ep.queues.buffers, 1);
          yield* unetFlush(env, ep);
          return;
        }
        yield* waitFor(env, () => s.closed, 1000);
        s.got = yield* collect(env, ep, 200);
      },
      { ranks: 2 },
    );
    expect(job.ranks.map((r) => r.process!.exitStatus)).toEqual([0, 0]);
    expect(s.openRc).toBe(0);
    expect(s.got).toEqual([7]);
  });

  it('never delivers to another user who takes the node after the peer exits, and refuses that user as a peer', () => {
    const sys = machine(2);
    const s = { peerPid: 0, peerGone: false, intruderPid: 0, intruderReady: false, sent: false, statuses: [] as number[], openRc: 0, stolen: [] as number[] };
    spawn(sys, 1, 1000, 'peer', function* (env) {
      yield* unetCreate(env, {});
      s.peerPid = yield* env.sys.getpid();
      yield* waitFor(env, () => s.statuses.length === 0 && s.sent, 1000);
    });
    const sender = spawn(sys, 0, 1000, 'sender', function* (env) {
      yield* waitFor(env, () => s.peerPid !== 0, 1000);
      const ep = yield* unetCreate(env, {});
      yield* unetOpen(env, ep, 0, { nid: 1, pid: s.peerPid, ep: 1, chan: 0 });
      s.sent = true;
      yield* waitFor(env, () => s.intruderReady, 1000);
      yield* env.sys.nanosleep(50_000);
      for (let i = 0; i < 4; i++) {
        yield* env.mem.store(ep.va + ep.queues.buffers, new Uint8Array([0x55]));
        yield* unetSend(env, ep, 0, ep.queues.buffers, 1);
        yield* unetFlush(env, ep);
        s.statuses.push(yield* unetSendStatus(env, ep, i));
      }
      s.openRc = yield* errnoOf(() => unetOpen(env, ep, 1, { nid: 1, pid: s.intruderPid, ep: 1, chan: 0 }, { waitNs: 0 }));
    });
    const intruder = spawn(sys, 1, 2, 'intruder', function* (env) {
      yield* waitFor(env, () => s.sent, 1000);
      yield* env.sys.nanosleep(20_000);
      // The peer has exited; uid 2 takes an endpoint on the node, with the same handle and channel number.
      const ep = yield* unetCreate(env, {});
      s.intruderPid = yield* env.sys.getpid();
      s.intruderReady = true;
      s.stolen = yield* collect(env, ep, 300);
    });
    sys.run({ until: 1e12, done: () => !sender.alive && !intruder.alive });
    expect(s.stolen).toEqual([]);
    expect(s.statuses).toEqual([UNET_STATUS.BAD_CHANNEL, UNET_STATUS.BAD_CHANNEL, UNET_STATUS.BAD_CHANNEL, UNET_STATUS.BAD_CHANNEL]);
    expect(s.openRc).toBe(-ERRNO.ECONNREFUSED);
  });
});
