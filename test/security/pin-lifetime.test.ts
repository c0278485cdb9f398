// How long pins last: memory a Portals object or an operation in flight
// refers to stays allocated after munmap, and goes back to the allocator
// as soon as nothing refers to it, also when its process exits mid-transfer.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContiguousAllocator } from '../../hw/physalloc.ts';
import { attachExtension } from '../../userland/lib/ext.ts';
import { MiB, PTL, machine, mmapRw, openPortals, physOf, spawn, waitFor } from './attack.ts';

describe('pins on physical allocations', () => {
  it('never hand out a pinned allocation again, and free it when its owner has released it and the last pin drops', () => {
    const PAGE = 4096;
    const op = fc.oneof(
      fc.record({ kind: fc.constant('alloc' as const), pages: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constantFrom('pin' as const, 'unpin' as const, 'release' as const), which: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const scrubbed: number[] = [];
        const a = new ContiguousAllocator(PAGE * 16, PAGE * 64, 'next-fit', (base) => scrubbed.push(base));
        // Model: each allocation's owner flag and pin count.
        const live: { base: number; size: number; owned: boolean; pins: number }[] = [];
        for (const o of ops) {
          if (o.kind === 'alloc') {
            const base = a.alloc(o.pages * PAGE);
            if (base === null) continue;
            // A fresh allocation overlaps nothing still owned or pinned.
            for (const l of live) expect(base < l.base + l.size && l.base < base + o.pages * PAGE).toBe(false);
            live.push({ base, size: o.pages * PAGE, owned: true, pins: 0 });
            continue;
          }
          if (live.length === 0) continue;
          const l = live[o.which % live.length];
          if (o.kind === 'pin') {
            expect(a.pin(l.base)).toBe(true);
            l.pins++;
          } else if (o.kind === 'unpin') {
            expect(a.unpin(l.base)).toBe(l.pins > 0);
            if (l.pins > 0) l.pins--;
          } else {
            expect(a.release(l.base)).toBe(l.owned);
            l.owned = false;
          }
          if (!l.owned && l.pins === 0) {
            // An allocation freed by its last pin (not by its owner) is scrubbed on its way back.
            expect(scrubbed.includes(l.base)).toBe(o.kind === 'unpin');
            scrubbed.length = 0;
            live.splice(live.indexOf(l), 1);
          }
        }
        expect(a.usedBytes).toBe(live.reduce((n, l) => n + l.size, 0));
        expect(a.orphanedBytes).toBe(live.filter((l) => !l.owned).reduce((n, l) => n + l.size, 0));
        expect(a.usedBytes + a.freeBytes).toBe(PAGE * 64);
        for (const l of live) expect(a.baseOf(l.base + l.size - 1)).toBe(l.base);
      }),
      { seed: 10, numRuns: 300 },
    );
  });
});

describe('memory behind a Portals object after munmap', () => {
  it('stays allocated while the descriptor, entry or grant exists, and returns when it is released, unlinked or its NI finalized', () => {
    const sys = machine(1);
    const k = sys.kernel(0);
    const orphaned: number[] = [];
    const p = spawn(sys, 0, 1, 'owner', function* (env) {
      const { P, ni } = yield* openPortals(env);
      const [a, b, g] = [yield* mmapRw(env, 2 * MiB), yield* mmapRw(env, 2 * MiB), yield* mmapRw(env, 2 * MiB)];
      const { md } = yield* P.PtlMDBind(ni, { start: a, length: 2 * MiB });
      const le = yield* P.PtlLEAppend(ni, 0, { start: b, length: 2 * MiB, options: PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE }, PTL.PRIORITY_LIST, 0);
      const r = yield* attachExtension(env, { code: 'mov %r0, 0\nexit', format: 'asm', entry: le.handle, region: g, regionLen: 64, payloadMax: 8 });
      expect(r.ok).toBe(true);
      for (const va of [a, b, g]) expect(yield* env.sys.munmap(va, 2 * MiB)).toBe(0);
      orphaned.push(k.phys.orphanedBytes);
      expect(yield* P.PtlMDRelease(md)).toBe(PTL.OK);
      orphaned.push(k.phys.orphanedBytes);
      expect(yield* P.PtlLEUnlink(le.handle)).toBe(PTL.OK);
      orphaned.push(k.phys.orphanedBytes);
      // Objects still bound when their NI goes let their memory go with it.
      const c = yield* mmapRw(env, 2 * MiB);
      yield* P.PtlMDBind(ni, { start: c, length: 2 * MiB });
      yield* P.PtlLEAppend(ni, 0, { start: c, length: 2 * MiB, options: PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE }, PTL.PRIORITY_LIST, 0);
      expect(yield* env.sys.munmap(c, 2 * MiB)).toBe(0);
      orphaned.push(k.phys.orphanedBytes);
      expect(yield* P.PtlNIFini(ni)).toBe(PTL.OK);
      orphaned.push(k.phys.orphanedBytes);
    });
    sys.run({ until: 1e12, done: () => !p.alive });
    expect(orphaned).toEqual([6 * MiB, 4 * MiB, 0, 2 * MiB, 0]);
  });

  it('returns every frame to the allocator when a process exits with objects, unmapped memory and transfers in flight', () => {
    // Nodes 1 and 2 reach node 0 over different links, so both puts are in flight together.
    const sys = machine([2, 2]);
    const k = sys.kernel(0);
    const before = k.phys.allocations();
    const s = { ready: false, sent: 0, pa: -1 };
    const afterExit = { orphaned: 0, staging: 0 };
    const target = spawn(sys, 0, 1, 'target', function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      yield* P.PtlPTAlloc(ni, 0, eq, 1);
      const a = yield* mmapRw(env, 8 * MiB);
      s.pa = yield* physOf(env, a);
      const [i1, i2] = [yield* mmapRw(env, MiB), yield* mmapRw(env, MiB)];
      const g = yield* mmapRw(env, 64 * 1024);
      yield* P.PtlLEAppend(ni, 0, { start: a, length: 8 * MiB, options: PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE | PTL.ME_USE_ONCE }, PTL.PRIORITY_LIST, 0);
      const small = yield* env.mem.alloc(64);
      const withExt = yield* P.PtlLEAppend(ni, 0, { start: small, length: 64, options: PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE }, PTL.PRIORITY_LIST, 0);
      const r = yield* attachExtension(env, { code: 'mov %r0, 0\nexit', format: 'asm', entry: withExt.handle, region: g, regionLen: 64, payloadMax: 8 });
      expect(r.ok).toBe(true);
      const iov = yield* env.mem.alloc(32);
      for (const [i, w] of [i1, MiB, i2, MiB].entries()) yield* env.mem.storeU64(iov + 8 * i, w);
      const staged = yield* P.PtlLEAppend(ni, 1, { start: iov, length: 2, options: PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE | PTL.IOVEC }, PTL.PRIORITY_LIST, 0);
      expect(staged.rc).toBe(PTL.OK);
      yield* P.PtlMDBind(ni, { start: a, length: 4096 });
      for (const [va, len] of [[a, 8 * MiB], [i1, MiB], [i2, MiB], [g, 64 * 1024]]) expect(yield* env.sys.munmap(va, len)).toBe(0);
      s.ready = true;
      yield* waitFor(env, () => s.sent === 2, 5_000);
      // Exit while both payloads are still arriving.
      yield* env.sys.nanosleep(50_000);
      yield* env.sys.exitGroup(0);
    });
    const senders = [1, 2].map((nid) =>
      spawn(sys, nid, 1, 'sender', function* (env) {
        const { P, ni, eq } = yield* openPortals(env);
        const len = nid === 1 ? 8 * MiB : 2 * MiB;
        const src = yield* mmapRw(env, len);
        yield* env.mem.store(src, new Uint8Array(4096).fill(0x5a));
        const { md } = yield* P.PtlMDBind(ni, { start: src, length: len, eq_handle: eq });
        yield* waitFor(env, () => s.ready);
        // Node 1 fills the plain entry on table 0; node 2's put to table 1 is staged.
        yield* P.PtlPut(md, 0, len, PTL.NO_ACK_REQ, { nid: 0, pid: target.pid }, nid - 1, 0n, 0, 0, 0);
        s.sent++;
        if (nid === 1) {
          yield* waitFor(env, () => !target.alive, 5_000);
          // The transfers still hold what they move.
          afterExit.orphaned = k.phys.orphanedBytes;
          afterExit.staging = k.portals.stagingBusy;
        }
        yield* env.sys.nanosleep(30_000_000);
      }),
    );
    sys.run({ until: 1e12, done: () => !target.alive && senders.every((p) => !p.alive) });
    expect(target.alive).toBe(false);
    expect(afterExit.orphaned).toBeGreaterThanOrEqual(8 * MiB);
    expect(afterExit.staging).toBe(2 * MiB);
    expect(k.phys.allocations()).toEqual(before);
    expect(k.phys.orphanedBytes).toBe(0);
    expect(k.portals.stagingBusy).toBe(0);
    // What landed after the owner had gone was wiped as the frames came back.
    expect(sys.physical(0, s.pa, 4096).every((x) => x === 0)).toBe(true);
  });
});
