// U-Net through the kernel's set-up calls and the user library: round trips
// with no syscall on the data path, the upcall, and determinism.

import { describe, expect, it } from 'vitest';
import unetPingpong from '../../userland/apps/unet_pingpong.ts';
import { ERRNO } from '../../userland/lib/abi.gen.ts';
import { type Env, program } from '../../userland/lib/runtime.ts';
import { UNET_STATUS, unetCreate, unetFlush, unetOpen, unetReceive, unetRelease, unetSend, unetWait } from '../../userland/lib/unet.ts';
import { boot, runMain, runProgram } from '../kernel/helpers.ts';

/** Rank r's peer (the other of ranks 0 and 1) as unetOpen wants it. */
function* peerOf(env: Env) {
  const map = yield* env.sys.jobMap();
  const rank = yield* env.sys.getrank();
  return { ...map[1 - rank], ep: 1, chan: 0 };
}

describe('U-Net through the kernel', () => {
  it('runs 50 round trips with no system call between the first send and the last receive', () => {
    const counts: number[] = [];
    const sys = boot({ nodes: 2 });
    const { job } = runProgram(
      sys,
      program('roundtrips', function* (env) {
        const rank = yield* env.sys.getrank();
        const ep = yield* unetCreate(env, {});
        yield* unetOpen(env, ep, 0, yield* peerOf(env));
        const k = sys.kernel(yield* env.sys.getnid());
        const before = k.stats.syscalls;
        for (let i = 0; i < 50; i++) {
          if (rank === 0) yield* unetSend(env, ep, 0, ep.queues.buffers, 8);
          const m = yield* unetReceive(env, ep);
          expect(m.status).toBe(UNET_STATUS.OK);
          yield* unetRelease(env, ep, m);
          if (rank === 1) yield* unetSend(env, ep, 0, ep.queues.buffers, 8);
        }
        counts.push(k.stats.syscalls - before);
        yield* unetFlush(env, ep);
      }),
      2,
    );
    expect(job.ranks.map((r) => r.process!.exitStatus)).toEqual([0, 0]);
    expect(counts).toEqual([0, 0]);
    expect(sys.kernel(1).node.nic.unet.stats.received).toBe(50);
  });

  it('wakes a thread sleeping in unet_wait with the upcall when a message arrives, and refuses the wait without the upcall', () => {
    const seen: Record<string, number> = {};
    runMain(
      function* (env) {
        const rank = yield* env.sys.getrank();
        const ep = yield* unetCreate(env, { upcall: rank === 1 });
        yield* unetOpen(env, ep, 0, yield* peerOf(env));
        if (rank === 0) {
          seen.noUpcall = yield* unetWait(env, ep, 0);
          yield* env.sys.nanosleep(100_000);
          seen.sentAt = yield* env.sys.clockNs();
          yield* unetSend(env, ep, 0, ep.queues.buffers, 8);
          yield* unetFlush(env, ep);
          return;
        }
        seen.poll = yield* unetWait(env, ep, 0);
        seen.short = yield* unetWait(env, ep, 1000);
        seen.wait = yield* unetWait(env, ep, -1);
        seen.wokeAt = yield* env.sys.clockNs();
        const m = yield* unetReceive(env, ep);
        seen.len = m.len;
      },
      { ranks: 2 },
    );
    expect(seen).toMatchObject({ noUpcall: -ERRNO.EINVAL, poll: -ERRNO.EAGAIN, short: -ERRNO.ETIMEDOUT, wait: 0, len: 8 });
    // Woken by the message: after it was sent, within a few microseconds.
    expect(seen.wokeAt - seen.sentAt).toBeGreaterThan(0);
    expect(seen.wokeAt - seen.sentAt).toBeLessThan(20_000);
  });

  it('opens a channel to a process on the same node, and refuses one to a missing process or endpoint', () => {
    const rcs: number[] = [];
    const { sys } = runMain(function* (env) {
      const a = yield* unetCreate(env, {});
      const b = yield* unetCreate(env, {});
      const pid = yield* env.sys.getpid();
      yield* unetOpen(env, a, 0, { nid: 0, pid, ep: b.id, chan: 5 });
      yield* unetOpen(env, b, 5, { nid: 0, pid, ep: a.id, chan: 0 });
      yield* env.mem.store(a.va + a.queues.buffers, new Uint8Array([42]));
      yield* unetSend(env, a, 0, a.queues.buffers, 1);
      const m = yield* unetReceive(env, b);
      rcs.push(m.chan, (yield* env.mem.load(b.va + m.offset, 1))[0]);
      for (const peer of [{ nid: 0, pid: 9999, ep: 1, chan: 0 }, { nid: 0, pid, ep: 7, chan: 0 }, { nid: 0, pid, ep: b.id, chan: 5 }]) {
        try {
          yield* unetOpen(env, a, 1, peer, { waitNs: 0 });
          rcs.push(0);
        } catch (e) {
          rcs.push(-(e as { errno: number }).errno);
        }
      }
    });
    expect(rcs).toEqual([5, 42, -ERRNO.ECONNREFUSED, -ERRNO.ECONNREFUSED, -ERRNO.EBUSY]);
    expect(sys.kernel(0).node.nic.unet.stats.control).toBe(0);
  });

  it('fails an open to a node that is down with EHOSTUNREACH, and one to a node that does not exist', () => {
    const rcs: number[] = [];
    const sys = boot({ nodes: 3 });
    sys.machine.network.setNodeDown(2, true);
    runProgram(
      sys,
      program('unreachable', function* (env) {
        const ep = yield* unetCreate(env, {});
        for (const nid of [2, 7]) {
          try {
            yield* unetOpen(env, ep, 0, { nid, pid: 100, ep: 1, chan: 0 }, { waitNs: 0 });
            rcs.push(0);
          } catch (e) {
            rcs.push(-(e as { errno: number }).errno);
          }
        }
      }),
      1,
    );
    expect(rcs).toEqual([-ERRNO.EHOSTUNREACH, -ERRNO.EHOSTUNREACH]);
    expect(sys.kernel(0).node.nic.unet.stats.undeliverable).toBe(1);
  });

  it('gives the same results and trace for the same seed', () => {
    const run = () => {
      const sys = boot({ nodes: 2 });
      const r = runProgram(sys, unetPingpong, 2, ['0', '512']);
      return { results: r.results, trace: sys.trace.last().map((x) => JSON.stringify(x)).join('\n') };
    };
    const a = run();
    const b = run();
    expect(a.results.zero_byte_latency_ns).toBeGreaterThan(0);
    expect(b).toEqual(a);
  });
});
