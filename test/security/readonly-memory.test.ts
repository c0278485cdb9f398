// The NIC never writes memory its owner cannot write: an entry that accepts
// puts or atomics, an extension grant (its handlers write) and a descriptor
// that receives replies must lie in writable memory when they are made, and
// mprotect taking write permission away also takes it from the NIC. Gets
// (the NIC reading) from read-only memory stay allowed.

import { describe, expect, it } from 'vitest';
import { attachExtension } from '../../userland/lib/ext.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';
import { OWNED, PTL, getRemote, machine, mmapRw, openPortals, putRemote, spawn, waitFor } from './attack.ts';

const EACCES = 13;
// atomic_add(granted + 0, 5), then deliver.
const ADDER = `mov %r1, %r3
mov %r2, 5
call 4
mov %r0, 0
exit`;

describe('binding memory the NIC would write', () => {
  it('refuses an entry that accepts puts over read-only memory (PROT_READ, mprotected or the program text) and allows one that only serves gets', () => {
    const sys = machine(1);
    const rcs: Record<string, number> = {};
    const p = spawn(sys, 0, 1, 'owner', function* (env) {
      const { P, ni } = yield* openPortals(env);
      const ro = yield* env.sys.mmap(0, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
      const rw = yield* mmapRw(env, 8192);
      const text = sys.kernel(0).processes.get(p.pid)!.aspace.view().find((r) => r.perms === 'r-x')!.start;
      const append = function* (start: number, length: number, options: number) {
        return (yield* P.PtlLEAppend(ni, 0, { start, length, options }, PTL.PRIORITY_LIST, 0)).rc;
      };
      rcs.putRo = yield* append(ro, 4096, PTL.ME_OP_PUT);
      rcs.putText = yield* append(text, 64, PTL.ME_OP_PUT | PTL.ME_OP_GET);
      rcs.getText = yield* append(text, 64, PTL.ME_OP_GET);
      rcs.getRo = yield* append(ro, 4096, PTL.ME_OP_GET);
      // A range that is writable only in part.
      expect(yield* env.sys.mprotect(rw + 4096, 4096, PROT_READ)).toBe(0);
      rcs.putHalf = yield* append(rw, 8192, PTL.ME_OP_PUT);
      rcs.putRw = yield* append(rw, 4096, PTL.ME_OP_PUT);
      // A PTL_IOVEC entry with one read-only piece.
      const iov = yield* env.mem.alloc(32);
      for (const [i, w] of [rw, 4096, ro, 4096].entries()) yield* env.mem.storeU64(iov + 8 * i, w);
      rcs.putIovec = yield* append(iov, 2, PTL.ME_OP_PUT | PTL.IOVEC);
      // A descriptor over read-only memory may be sent from, not replied into.
      const { md } = yield* P.PtlMDBind(ni, { start: ro, length: 4096 });
      rcs.getInto = yield* P.PtlGet(md, 0, 8, { nid: 0, pid: p.pid }, 0, 0n, 0, 0);
      rcs.fetchInto = yield* P.PtlFetchAtomic(md, 0, md, 8, 8, { nid: 0, pid: p.pid }, 0, 0n, 0, 0, 0, PTL.SUM, PTL.UINT64_T);
      rcs.putFrom = yield* P.PtlPut(md, 0, 8, PTL.NO_ACK_REQ, { nid: 0, pid: p.pid }, 0, 0n, 0, 0, 0);
    });
    sys.run({ until: 1e12, done: () => !p.alive });
    expect(rcs).toEqual({
      putRo: PTL.ARG_INVALID,
      putText: PTL.ARG_INVALID,
      getText: PTL.OK,
      getRo: PTL.OK,
      putHalf: PTL.ARG_INVALID,
      putRw: PTL.OK,
      putIovec: PTL.ARG_INVALID,
      getInto: PTL.ARG_INVALID,
      fetchInto: PTL.ARG_INVALID,
      putFrom: PTL.OK,
    });
  });

  it('refuses an extension grant over read-only memory with EACCES', () => {
    const sys = machine(1);
    const out: { ro?: { ok: boolean; errno?: number; reason?: string }; rw?: boolean } = {};
    const p = spawn(sys, 0, 1, 'owner', function* (env) {
      const { P, ni } = yield* openPortals(env);
      const buf = yield* mmapRw(env, 4096);
      const le = yield* P.PtlLEAppend(ni, 0, { start: buf, length: 64, options: PTL.ME_OP_PUT }, PTL.PRIORITY_LIST, 0);
      const ro = yield* env.sys.mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
      const r = yield* attachExtension(env, { code: ADDER, format: 'asm', entry: le.handle, region: ro, regionLen: 64, payloadMax: 8 });
      out.ro = r.ok ? { ok: true } : { ok: false, errno: r.errno, reason: r.reason };
      out.rw = (yield* attachExtension(env, { code: ADDER, format: 'asm', entry: le.handle, region: buf + 1024, regionLen: 64, payloadMax: 8 })).ok;
    });
    sys.run({ until: 1e12, done: () => !p.alive });
    expect(out.ro).toEqual({ ok: false, errno: EACCES, reason: 'granted region is not writable' });
    expect(out.rw).toBe(true);
  });
});

describe('mprotect taking write permission from memory the NIC can reach', () => {
  it('refuses later puts and atomics into an entry over it with PTL_NI_PERM_VIOLATION, leaves it unchanged, and still serves gets', () => {
    const sys = machine([2]);
    const s = { ready: false, over: false, before: 0, viol: 0, bytes: new Uint8Array(0) as Uint8Array };
    const out: { fail?: number; atomicFail?: number; got?: Uint8Array; gotFail?: number; rwFail?: number } = {};
    const owner = spawn(sys, 0, 1, 'owner', function* (env) {
      const { P, ni } = yield* openPortals(env);
      const buf = yield* mmapRw(env, 8192);
      yield* env.mem.store(buf, new TextEncoder().encode('READ ONLY NOW'));
      yield* P.PtlLEAppend(ni, 0, { start: buf, length: 8192, options: PTL.ME_OP_PUT | PTL.ME_OP_GET }, PTL.PRIORITY_LIST, 0);
      expect(yield* env.sys.mprotect(buf, 4096, PROT_READ)).toBe(0);
      s.ready = true;
      yield* waitFor(env, () => s.over);
      s.bytes = yield* env.mem.load(buf, 13);
      s.viol = (yield* P.PtlNIStatus(ni, PTL.SR_PERMISSION_VIOLATIONS)).status;
    });
    const attacker = spawn(sys, 1, 1, 'peer', function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      yield* waitFor(env, () => s.ready);
      const target = { nid: 0, pid: owner.pid };
      out.fail = yield* putRemote(env, P, ni, eq, target, 0, OWNED);
      const src = yield* env.mem.alloc(8);
      yield* env.mem.storeU64(src, 0x0101010101n);
      const { md } = yield* P.PtlMDBind(ni, { start: src, length: 8, eq_handle: eq });
      yield* P.PtlAtomic(md, 0, 8, PTL.ACK_REQ, target, 0, 0n, 0, 0, 0, PTL.SUM, PTL.UINT64_T);
      for (;;) {
        const ev = (yield* P.PtlEQWait(eq)).event!;
        if (ev.type === PTL.EVENT_ACK) {
          out.atomicFail = ev.ni_fail_type;
          break;
        }
      }
      const g = yield* getRemote(env, P, ni, eq, target, 0, 13);
      out.got = g.bytes;
      out.gotFail = g.fail;
      // An entry is writable or not as a whole (as an RDMA registration's access rights): the part
      // of it still writable by its owner takes no puts either.
      out.rwFail = yield* putRemote(env, P, ni, eq, target, 4096, OWNED);
      s.over = true;
    });
    sys.run({ until: 1e12, done: () => !owner.alive && !attacker.alive });
    expect(out.fail).toBe(PTL.NI_PERM_VIOLATION);
    expect(out.atomicFail).toBe(PTL.NI_PERM_VIOLATION);
    expect(new TextDecoder().decode(s.bytes)).toBe('READ ONLY NOW');
    expect(new TextDecoder().decode(out.got)).toBe('READ ONLY NOW');
    expect(out.gotFail).toBe(PTL.NI_OK);
    expect(out.rwFail).toBe(PTL.NI_PERM_VIOLATION);
    expect(s.viol).toBe(3);
  });

  it('leaves a handler unable to write a grant made read-only', () => {
    const sys = machine([2]);
    const s = { ready: false, sent: false, word: -1n, afterWritable: -1n };
    const owner = spawn(sys, 0, 1, 'owner', function* (env) {
      const { P, ni } = yield* openPortals(env);
      const buf = yield* mmapRw(env, 4096);
      const g = yield* mmapRw(env, 4096);
      const le = yield* P.PtlLEAppend(ni, 0, { start: buf, length: 64, options: PTL.ME_OP_PUT }, PTL.PRIORITY_LIST, 0);
      expect((yield* attachExtension(env, { code: ADDER, format: 'asm', entry: le.handle, region: g, regionLen: 64, payloadMax: 8 })).ok).toBe(true);
      expect(yield* env.sys.mprotect(g, 4096, PROT_READ)).toBe(0);
      s.ready = true;
      yield* waitFor(env, () => s.sent);
      yield* env.sys.nanosleep(2_000_000);
      s.word = yield* env.mem.loadU64(g);
      // Write permission given back does not give the NIC its write back: the grant must be made again.
      expect(yield* env.sys.mprotect(g, 4096, PROT_READ | PROT_WRITE)).toBe(0);
      s.sent = false;
      yield* waitFor(env, () => s.sent);
      yield* env.sys.nanosleep(2_000_000);
      s.afterWritable = yield* env.mem.loadU64(g);
    });
    const peer = spawn(sys, 1, 1, 'peer', function* (env) {
      const { P, ni } = yield* openPortals(env);
      const src = yield* mmapRw(env, 4096);
      const { md } = yield* P.PtlMDBind(ni, { start: src, length: 8 });
      yield* waitFor(env, () => s.ready);
      for (let i = 0; i < 2; i++) {
        yield* P.PtlPut(md, 0, 8, PTL.NO_ACK_REQ, { nid: 0, pid: owner.pid }, 0, 0n, 0, 0, 0);
        s.sent = true;
        yield* waitFor(env, () => !s.sent || i === 1);
      }
    });
    sys.run({ until: 1e12, done: () => !owner.alive && !peer.alive });
    expect(s.word).toBe(0n);
    expect(s.afterWritable).toBe(0n);
  });
});
