// Attacks on U-Net endpoints (seed 001: an endpoint, its segment and queues
// are reachable by the owning process only; a message carries its channel's
// tag and reaches that channel's endpoint only). Each is the attack as a
// user program would try it.

import { describe, expect, it } from 'vitest';
import { SYS, ERRNO } from '../../userland/lib/abi.gen.ts';
import { unetQueues } from '../../userland/lib/unet.gen.ts';
import { UNET_STATUS, type UnetEndpoint, UnetError, unetCreate, unetFlush, unetOpen, unetPoll, unetSend, unetSendStatus } from '../../userland/lib/unet.ts';
import type { Env } from '../../userland/lib/runtime.ts';
import { MiB, OWNED, SECRET, grabFramesAt, includes, machine, physOf, spawn, waitFor } from './attack.ts';

/** unet_open's result as a number (0 or -errno). */
function* tryOpen(env: Env, ep: UnetEndpoint, chan: number, peer: { nid: number; pid: number; ep: number; chan: number }) {
  try {
    yield* unetOpen(env, ep, chan, peer, { waitNs: 0 });
    return 0;
  } catch (e) {
    return -(e as UnetError).errno;
  }
}

describe('U-Net protection', () => {
  it('refuses a channel to another uid\'s endpoint, on the same node and across nodes', () => {
    const sys = machine(2);
    const s = { ready: false, done: false, local: 1, remote: 1, victimGot: -1 };
    const victim = spawn(sys, 0, 1, 'victim', function* (env) {
      const ep = yield* unetCreate(env, {});
      s.ready = true;
      yield* waitFor(env, () => s.done);
      s.victimGot = (yield* unetPoll(env, ep)) === null ? 0 : 1;
    });
    spawn(sys, 0, 2, 'local', function* (env) {
      const ep = yield* unetCreate(env, {});
      yield* waitFor(env, () => s.ready);
      s.local = yield* tryOpen(env, ep, 0, { nid: 0, pid: victim.pid, ep: 1, chan: 0 });
    });
    spawn(sys, 1, 2, 'remote', function* (env) {
      const ep = yield* unetCreate(env, {});
      yield* waitFor(env, () => s.ready);
      s.remote = yield* tryOpen(env, ep, 0, { nid: 0, pid: victim.pid, ep: 1, chan: 0 });
      s.done = true;
    });
    sys.run({ until: 1e12, done: () => !victim.alive });
    expect([s.local, s.remote, s.victimGot]).toEqual([-ERRNO.ECONNREFUSED, -ERRNO.ECONNREFUSED, 0]);
  });

  it('does not let a process name, close, wait on or destroy an endpoint it does not own', () => {
    const sys = machine(1);
    const s = { ready: false, rcs: [] as number[] };
    const victim = spawn(sys, 0, 1, 'victim', function* (env) {
      yield* unetCreate(env, {});
      s.ready = true;
      yield* waitFor(env, () => s.rcs.length > 0);
    });
    spawn(sys, 0, 2, 'attacker', function* (env) {
      yield* waitFor(env, () => s.ready);
      const r = [];
      r.push(yield* env.sys.raw(SYS.unet_destroy, 1));
      r.push(yield* env.sys.raw(SYS.unet_close, 1, 0));
      r.push(yield* env.sys.raw(SYS.unet_wait, 1, 0));
      r.push(yield* env.sys.raw(SYS.unet_open, 1, 0, 0, victim.pid, 1, 0));
      s.rcs = r;
    });
    sys.run({ until: 1e12, done: () => !victim.alive });
    expect(s.rcs).toEqual([-ERRNO.EBADF, -ERRNO.EBADF, -ERRNO.EBADF, -ERRNO.EBADF]);
    expect(sys.kernel(0).node.nic.unet.allEndpoints()).toHaveLength(0);
  });

  it('never sends memory outside the segment: a descriptor aimed at another user\'s physical page is refused', () => {
    const sys = machine(2);
    const s = { secretPa: -1, status: -1, got: [] as Uint8Array[], done: false, ready: false };
    let peerPid = 0;
    spawn(sys, 0, 1, 'victim', function* (env) {
      const buf = yield* env.mem.alloc(64);
      yield* env.mem.store(buf, SECRET);
      s.secretPa = yield* physOf(env, buf);
      yield* waitFor(env, () => s.done);
    });
    const attacker = spawn(sys, 0, 2, 'attacker', function* (env) {
      const ep = yield* unetCreate(env, {});
      yield* waitFor(env, () => s.secretPa >= 0 && s.ready);
      yield* unetOpen(env, ep, 0, { nid: 1, pid: peerPid, ep: 1, chan: 0 });
      const segPa = yield* physOf(env, ep.va);
      // The offset that, added to the segment's physical base, would reach the secret (mod 2^32).
      const off = (s.secretPa - segPa) >>> 0;
      yield* unetSend(env, ep, 0, off, SECRET.length);
      yield* unetFlush(env, ep);
      s.status = yield* unetSendStatus(env, ep, 0);
      yield* env.sys.nanosleep(50_000);
      s.done = true;
    });
    const peer = spawn(sys, 1, 2, 'accomplice', function* (env) {
      const ep = yield* unetCreate(env, {});
      s.ready = true;
      yield* waitFor(env, () => s.done);
      for (let m = yield* unetPoll(env, ep); m !== null; m = null) s.got.push(yield* env.mem.load(ep.va + m.offset, m.len));
    });
    peerPid = peer.pid;
    sys.run({ until: 1e12, done: () => !attacker.alive && !peer.alive });
    expect(s.status).toBe(UNET_STATUS.BAD_BUFFER);
    expect(s.got.some((b) => includes(b, SECRET))).toBe(false);
  });

  it('keeps a freed segment\'s frames from the next user while the endpoint lives: messages land in frames nobody else was given', () => {
    const sys = machine(2);
    const SEG = 8 * MiB;
    const s = { pa: -1, unmapped: false, landed: 0, filled: false, sent: false, victimAfter: new Uint8Array(0) as Uint8Array };
    let attackerPid = 0;
    const attacker = spawn(sys, 0, 2, 'attacker', function* (env) {
      // A segment of exactly SEG bytes (2 MiB pages, as the victim's grab uses).
      const ep = yield* unetCreate(env, { entries: 16, extraBytes: SEG - (Math.ceil(unetQueues(16).buffers / 64) * 64 + 2 * 16 * 4096) });
      expect(ep.bytes).toBe(SEG);
      s.pa = yield* physOf(env, ep.va);
      expect(yield* env.sys.munmap(ep.va, ep.bytes)).toBe(0);
      s.unmapped = true;
      yield* waitFor(env, () => s.sent);
    });
    attackerPid = attacker.pid;
    spawn(sys, 1, 2, 'accomplice', function* (env) {
      const ep = yield* unetCreate(env, {});
      yield* waitFor(env, () => s.filled);
      yield* unetOpen(env, ep, 0, { nid: 0, pid: attackerPid, ep: 1, chan: 0 });
      yield* env.mem.store(ep.va + ep.queues.buffers, OWNED);
      // Direct access all over the segment's range, and base level into its free buffers.
      for (let off = 0; off < SEG; off += 256 * 1024) yield* unetSend(env, ep, 0, ep.queues.buffers, OWNED.length, { direct: off });
      for (let i = 0; i < 8; i++) yield* unetSend(env, ep, 0, ep.queues.buffers, OWNED.length);
      yield* unetFlush(env, ep);
      yield* env.sys.nanosleep(200_000);
      s.sent = true;
    });
    const victim = spawn(sys, 0, 1, 'victim', function* (env) {
      yield* waitFor(env, () => s.unmapped);
      // The page 1 MiB into the segment (the header's words stay the victim's zeroes).
      s.landed = yield* grabFramesAt(env, s.pa + MiB);
      s.filled = true;
      yield* waitFor(env, () => s.sent);
      if (s.landed !== 0) s.victimAfter = yield* env.mem.load(s.landed, 64);
    });
    sys.run({ until: 5e12, done: () => s.sent && !victim.alive });
    expect(s.sent).toBe(true);
    expect(s.pa).toBeGreaterThan(0);
    // The frames stay the endpoint's while it lives: the victim was given none of them...
    expect(s.landed).toBe(0);
    // ...so whatever it holds is its own (checked too, should the allocator ever hand one out).
    if (s.landed !== 0) expect([includes(s.victimAfter, SECRET), includes(s.victimAfter, OWNED)]).toEqual([true, false]);
  });

  it('refuses a send on a channel the endpoint has not opened (another channel\'s tag cannot be borrowed), and tells a peer that sends after a close (BAD_CHANNEL)', () => {
    const sys = machine(2);
    const s = { ready: false, closed: false, status: -1, afterClose: -1, done: false, got: 0 };
    let bPid = 0;
    const a = spawn(sys, 0, 2, 'a', function* (env) {
      const ep = yield* unetCreate(env, {});
      yield* waitFor(env, () => s.ready);
      yield* unetOpen(env, ep, 0, { nid: 1, pid: bPid, ep: 1, chan: 0 });
      yield* unetSend(env, ep, 1, ep.queues.buffers, 8);
      yield* unetFlush(env, ep);
      s.status = yield* unetSendStatus(env, ep, 0);
      yield* waitFor(env, () => s.closed);
      yield* unetSend(env, ep, 0, ep.queues.buffers, 8);
      yield* unetFlush(env, ep);
      s.afterClose = yield* unetSendStatus(env, ep, 1);
      yield* env.sys.nanosleep(50_000);
      s.done = true;
    });
    const b = spawn(sys, 1, 2, 'b', function* (env) {
      const ep = yield* unetCreate(env, {});
      s.ready = true;
      yield* waitFor(env, () => s.status >= 0);
      expect(yield* env.sys.raw(SYS.unet_close, ep.id, 0)).toBe(0);
      s.closed = true;
      yield* waitFor(env, () => s.done);
      s.got = (yield* unetPoll(env, ep)) === null ? 0 : 1;
    });
    bPid = b.pid;
    sys.run({ until: 1e12, done: () => !a.alive && !b.alive });
    expect(s.status).toBe(UNET_STATUS.BAD_CHANNEL);
    // B's kernel told A's (CLOSE): A's NIC refuses the send instead of losing it on the way.
    expect(s.afterClose).toBe(UNET_STATUS.BAD_CHANNEL);
    expect(s.got).toBe(0);
    expect(sys.kernel(1).node.nic.unet.stats.forged).toBe(0);
  });

  it('forgets a process\'s endpoints and unpins their segments when it exits', () => {
    const sys = machine(1);
    const k = sys.kernel(0);
    const before = k.phys.freeBytes;
    const p = spawn(sys, 0, 1, 'owner', function* (env) {
      yield* unetCreate(env, { extraBytes: 4 * MiB });
      yield* unetCreate(env, {});
    });
    sys.run({ until: 1e12, done: () => !p.alive });
    sys.run({ until: sys.machine.engine.now + 1e9 });
    expect(k.node.nic.unet.allEndpoints()).toEqual([]);
    expect(k.unet.all()).toEqual([]);
    expect(k.phys.freeBytes).toBe(before);
  });
});
