// Attack on the kernel's staging memory: transfers to non-contiguous
// buffers go through a staging slot in kernel memory between the RX DMA and
// the scatter into the user's pieces. A slot must stay owned while its
// transfer is in flight; when staging is full the message is dropped under
// Portals flow control, never written over another transfer.

import { describe, expect, it } from 'vitest';
import { SYS } from '../../userland/lib/abi.gen.ts';
import type { Env } from '../../userland/lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';
import { MiB, PTL, machine, mmapRw, openPortals, spawn } from './attack.ts';

const PIECE = 3 * MiB;

/** An IOVEC list entry over two separate mappings (so its transfers are staged). */
function* stagedEntry(env: Env, flowControl: boolean) {
  const o = yield* openPortals(env, flowControl ? PTL.PT_FLOWCTRL : 0);
  const a = yield* mmapRw(env, PIECE);
  const b = yield* mmapRw(env, PIECE);
  const iov = yield* env.mem.alloc(32);
  for (const [i, w] of [a, PIECE, b, PIECE].entries()) yield* env.mem.storeU64(iov + 8 * i, w);
  const le = yield* o.P.PtlLEAppend(o.ni, 0, { start: iov, length: 2, options: PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE | PTL.IOVEC }, PTL.PRIORITY_LIST, 0);
  expect(le.rc).toBe(PTL.OK);
  return { ...o, a, b };
}

/** Distinct bytes found in [va, va+len), sampled every 4 KiB. */
function* bytesIn(env: Env, va: number, len: number) {
  const seen = new Set<number>();
  for (let off = 0; off < len; off += 4096) for (const x of yield* env.mem.load(va + off, 1)) seen.add(x);
  return seen;
}

function twoUsersIntoOneBusyNode(flowControl: boolean) {
  // Nodes 1 and 2 reach node 0 over different links; page-table writes made slow so that one mmap keeps the core busy for tens of milliseconds.
  const sys = machine([2, 2], 1, { 'kernel.mapPageCycles': 5000 });
  const s = { ready: 0, go: false, finished: 0 };
  const got: Record<number, { bytes: Set<number>; events: number[] }> = {};
  const acks: Record<number, number> = {};
  const targets: Record<number, number> = {};
  for (const uid of [1, 2]) {
    const t = spawn(sys, 0, uid, `target${uid}`, function* (env) {
      const { P, eq, a, b } = yield* stagedEntry(env, flowControl);
      s.ready++;
      while (s.finished < 2) yield* env.sys.nanosleep(50_000);
      const events: number[] = [];
      for (;;) {
        const r = yield* P.PtlEQGet(eq);
        if (r.rc !== PTL.OK) break;
        events.push(r.event!.type);
      }
      const bytes = yield* bytesIn(env, a, PIECE);
      for (const x of yield* bytesIn(env, b, PIECE)) bytes.add(x);
      got[uid] = { bytes, events };
    });
    targets[uid] = t.pid;
  }
  // A third process, once both headers have been matched, keeps the node's
  // only core in a long non-preemptible syscall (mapping 32 MiB with 4 KiB
  // pages) while both payloads land in staging.
  spawn(sys, 0, 3, 'busy', function* (env) {
    while (s.ready < 4) yield* env.sys.nanosleep(10_000);
    s.go = true;
    yield* env.sys.nanosleep(300_000);
    yield* env.sys.raw(SYS.mmap, 0, 32 * MiB + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  });
  for (const uid of [1, 2]) {
    spawn(sys, uid, uid, `sender${uid}`, function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      const src = yield* mmapRw(env, 2 * PIECE);
      const page = new Uint8Array(4096).fill(0x10 * uid + uid);
      for (let off = 0; off < 2 * PIECE; off += 4096) yield* env.mem.store(src + off, page);
      const { md } = yield* P.PtlMDBind(ni, { start: src, length: 2 * PIECE, eq_handle: eq });
      s.ready++;
      while (!s.go) yield* env.sys.nanosleep(1_000);
      yield* P.PtlPut(md, 0, 2 * PIECE, PTL.ACK_REQ, { nid: 0, pid: targets[uid] }, 0, 0n, 0, 0, 0);
      for (;;) {
        const ev = (yield* P.PtlEQWait(eq)).event!;
        if (ev.type === PTL.EVENT_ACK) {
          acks[uid] = ev.ni_fail_type;
          break;
        }
      }
      s.finished++;
    });
  }
  sys.run({ until: 5e12, done: () => got[1] !== undefined && got[2] !== undefined });
  return { got, acks };
}

describe('the kernel staging ring under two users\' large puts', () => {
  it('never puts one user\'s bytes into the other user\'s buffer', () => {
    const { got, acks } = twoUsersIntoOneBusyNode(true);
    expect(got[1]).toBeDefined();
    expect(got[2]).toBeDefined();
    expect(got[1].bytes.has(0x22)).toBe(false);
    expect(got[2].bytes.has(0x11)).toBe(false);
    // Each put either arrived whole or was dropped under flow control: the
    // entry's owner sees PT_DISABLED and the sender an ack saying so.
    for (const uid of [1, 2]) {
      const own = 0x10 * uid + uid;
      if (acks[uid] === PTL.NI_OK) {
        expect([...got[uid].bytes]).toEqual([own]);
        expect(got[uid].events).toContain(PTL.EVENT_PUT);
      } else {
        expect(acks[uid]).toBe(PTL.NI_PT_DISABLED);
        expect([...got[uid].bytes]).toEqual([0]);
        expect(got[uid].events).toContain(PTL.EVENT_PT_DISABLED);
      }
    }
    expect([acks[1], acks[2]]).toContain(PTL.NI_OK);
  });

  it('drops a put that finds staging full on a table without flow control, and says so in the ack', () => {
    const { got, acks } = twoUsersIntoOneBusyNode(false);
    expect(got[1].bytes.has(0x22)).toBe(false);
    expect(got[2].bytes.has(0x11)).toBe(false);
    expect([acks[1], acks[2]].sort()).toEqual([PTL.NI_OK, PTL.NI_DROPPED].sort());
  });
});

describe('a message refused for want of staging', () => {
  it('leaves a use-once entry in place for the next message', () => {
    const sys = machine([2, 2], 1);
    const s = { ready: 0, go: false, firstDone: 0, retry: false };
    const acks: number[][] = [[], []];
    let result: { bytes: Set<number>; events: number[] } | null = null;
    const target = spawn(sys, 0, 1, 'target', function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      yield* P.PtlPTAlloc(ni, 0, eq, 1);
      // Table 0: a plain staged entry; table 1: a use-once staged entry.
      for (const pt of [0, 1]) {
        const a = yield* mmapRw(env, PIECE);
        const b = yield* mmapRw(env, PIECE);
        const iov = yield* env.mem.alloc(32);
        for (const [i, w] of [a, PIECE, b, PIECE].entries()) yield* env.mem.storeU64(iov + 8 * i, w);
        const le = yield* P.PtlLEAppend(ni, pt, { start: iov, length: 2, options: PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE | PTL.IOVEC | (pt === 1 ? PTL.ME_USE_ONCE : 0) }, PTL.PRIORITY_LIST, 0);
        expect(le.rc).toBe(PTL.OK);
        if (pt === 1) {
          s.ready++;
          while (acks[1].length < 2) yield* env.sys.nanosleep(50_000);
          const events: number[] = [];
          for (;;) {
            const r = yield* P.PtlEQGet(eq);
            if (r.rc !== PTL.OK) break;
            events.push(r.event!.type);
          }
          const bytes = yield* bytesIn(env, a, PIECE);
          for (const x of yield* bytesIn(env, b, PIECE)) bytes.add(x);
          result = { bytes, events };
        }
      }
    });
    for (const nid of [1, 2]) {
      spawn(sys, nid, 1, `sender${nid}`, function* (env) {
        const { P, ni, eq } = yield* openPortals(env);
        const src = yield* mmapRw(env, 2 * PIECE);
        const page = new Uint8Array(4096).fill(nid === 1 ? 0x11 : 0x22);
        for (let off = 0; off < 2 * PIECE; off += 4096) yield* env.mem.store(src + off, page);
        const { md } = yield* P.PtlMDBind(ni, { start: src, length: 2 * PIECE, eq_handle: eq });
        s.ready++;
        while (s.ready < 3) yield* env.sys.nanosleep(1_000);
        // Node 1's put to table 0 takes the staging; node 2's, a moment later, finds none, then retries.
        if (nid === 2) yield* env.sys.nanosleep(2_000);
        for (let attempt = 0; attempt < (nid === 2 ? 2 : 1); attempt++) {
          if (attempt === 1) yield* env.sys.nanosleep(20_000_000);
          yield* P.PtlPut(md, 0, 2 * PIECE, PTL.ACK_REQ, { nid: 0, pid: target.pid }, nid - 1, 0n, 0, 0, 0);
          for (;;) {
            const ev = (yield* P.PtlEQWait(eq)).event!;
            if (ev.type === PTL.EVENT_ACK) {
              acks[nid - 1].push(ev.ni_fail_type);
              break;
            }
          }
        }
      });
    }
    sys.run({ until: 5e12, done: () => result !== null });
    expect(acks).toEqual([[PTL.NI_OK], [PTL.NI_DROPPED, PTL.NI_OK]]);
    expect([...result!.bytes]).toEqual([0x22]);
    // One EQ for both tables: table 0's put, then the retried put and the use-once entry's unlink.
    expect(result!.events).toEqual([PTL.EVENT_PUT, PTL.EVENT_PUT, PTL.EVENT_AUTO_UNLINK]);
  });
});
