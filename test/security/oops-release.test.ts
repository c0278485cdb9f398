// A kernel oops in a receive's completion must not leak what the receive
// holds: the pin on the entry's memory and the handler's grant, and its
// staging slot, go back however the completion path ends.

import { describe, expect, it, vi } from 'vitest';
import { attachExtension } from '../../userland/lib/ext.ts';
import { MiB, PTL, machine, mmapRw, openPortals, spawn, waitFor } from './attack.ts';

// Forwards the first 8 payload bytes to nid 0, pt 0, then delivers.
const FORWARDER = `mov %r6, %r1
mov %r1, 0
mov %r2, 0
mov %r3, 0
mov %r4, %r6
mov %r5, 8
call 2
mov %r0, 0
exit`;

describe('a kernel oops between a receive and its release', () => {
  it('gives back the receive pin, grant pin and staging slot, and later completions still run', () => {
    const sys = machine([2]);
    const k = sys.kernel(0);
    const before = k.phys.allocations();
    const s = { ready: false, events: 0, done: false, heldAfterOops: -1 };
    // Test-only: the handler's forward, sent from node 0's receive completion, dies with a host
    // exception (an oops) after the payload was staged and before the receive is released.
    const driver = k.portals as unknown as { sendFromKernel: (...a: unknown[]) => boolean };
    const spy = vi.spyOn(driver, 'sendFromKernel').mockImplementationOnce(() => {
      throw new Error('forced oops in the completion path');
    });
    const target = spawn(sys, 0, 1, 'target', function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      yield* P.PtlPTAlloc(ni, 0, eq, 1);
      const a = yield* mmapRw(env, 2 * MiB);
      const [b, g] = [yield* mmapRw(env, 2 * MiB), yield* mmapRw(env, 2 * MiB)];
      yield* P.PtlLEAppend(ni, 0, { start: a, length: 2 * MiB, options: PTL.ME_OP_PUT }, PTL.PRIORITY_LIST, 0);
      const le = yield* P.PtlLEAppend(ni, 1, { start: b, length: 4096, options: PTL.ME_OP_PUT }, PTL.PRIORITY_LIST, 0);
      const r = yield* attachExtension(env, { code: FORWARDER, format: 'asm', entry: le.handle, region: g, regionLen: 64, payloadMax: 8 });
      expect(r.ok).toBe(true);
      s.ready = true;
      // The first put's completion oopses (no event); the second's posts its PUT event.
      while (s.events === 0) if ((yield* P.PtlEQWait(eq)).event!.type === PTL.EVENT_PUT) s.events++;
      // Entry and grant gone, and memory unmapped: nothing may hold these frames any more.
      yield* P.PtlLEUnlink(le.handle);
      for (const va of [b, g]) yield* env.sys.munmap(va, 2 * MiB);
      s.heldAfterOops = k.phys.orphanedBytes + k.portals.stagingBusy;
      yield* waitFor(env, () => s.done);
      yield* env.sys.exitGroup(0);
    });
    const sender = spawn(sys, 1, 1, 'sender', function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      const src = yield* mmapRw(env, 2 * MiB);
      const { md } = yield* P.PtlMDBind(ni, { start: src, length: 2 * MiB, eq_handle: eq });
      yield* waitFor(env, () => s.ready);
      yield* P.PtlPut(md, 0, 4096, PTL.NO_ACK_REQ, { nid: 0, pid: target.pid }, 1, 0n, 0, 0, 0);
      yield* env.sys.nanosleep(1_000_000);
      yield* P.PtlPut(md, 0, 2 * MiB, PTL.NO_ACK_REQ, { nid: 0, pid: target.pid }, 0, 0n, 0, 0, 0);
      yield* env.sys.nanosleep(20_000_000);
      s.done = true;
    });
    sys.run({ until: 1e12, done: () => !target.alive && !sender.alive });
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
    expect(k.oopsLog).toEqual(['node 0 core 0: Error: forced oops in the completion path']);
    expect(s.events).toBe(1);
    expect(s.heldAfterOops).toBe(0);
    expect(k.phys.allocations()).toEqual(before);
    expect(k.phys.orphanedBytes).toBe(0);
    expect(k.portals.stagingBusy).toBe(0);
  });
});
