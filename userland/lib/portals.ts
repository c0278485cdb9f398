// The Portals 4 library: the calls a Portals user knows (PtlNIInit,
// PtlPTAlloc, PtlMEAppend, PtlMDBind, PtlPut, PtlGet, PtlEQWait, PtlCTWait,
// ...) returning PTL_* codes. Each call lays its arguments out as 64-bit
// words in user memory and traps; structures (ptl_md_t, ptl_me_t,
// ptl_event_t, ...) use the layouts in portals.gen.ts. Out-parameters come
// back as fields of the result; pass `out: 0` to hand the kernel a NULL
// out-pointer (argument-checking tests do).

import { SYS } from './abi.gen.ts';
import type { Memory } from './memory.ts';
import type { U, UserCpu } from './ops.ts';
import { PTL, STRUCTS } from './portals.gen.ts';
import { syscallN } from './syscall.ts';

export { PTL };

export type Word = number | bigint;

export interface PtlLimits {
  readonly [name: string]: number;
}

export interface PtlMd {
  start: number;
  length: number;
  options?: number;
  eq_handle?: number;
  ct_handle?: number;
}

export interface PtlEntry {
  start: number;
  length: number;
  ct_handle?: number;
  uid?: number;
  options?: number;
  /** nid (physical) or rank (logical) to match, and pid; default any */
  match_id_nid?: number;
  match_id_pid?: number;
  match_bits?: bigint;
  ignore_bits?: bigint;
  min_free?: number;
}

export interface PtlEvent {
  readonly type: number;
  readonly start: number;
  readonly user_ptr: bigint;
  readonly hdr_data: bigint;
  readonly match_bits: bigint;
  readonly rlength: number;
  readonly mlength: number;
  readonly remote_offset: number;
  readonly uid: number;
  readonly initiator_nid: number;
  readonly initiator_pid: number;
  readonly pt_index: number;
  readonly ni_fail_type: number;
  readonly atomic_operation: number;
  readonly atomic_type: number;
  readonly ptl_list: number;
}

/** A process id: physical (nid, pid) or logical (rank). */
export type PtlProcess = { readonly nid: number; readonly pid: number } | { readonly rank: number };

export interface Out {
  /** Use this user address as the out-pointer (0 for NULL) instead of the library's buffer. */
  readonly out?: number;
}

const WORD = 8;

/**
 * A thread's buffers for the calls' arguments and results: the argument
 * words, the out-words, and an arena for the structures and arrays a call
 * passes by pointer. The kernel reads those during the call, so the arena is
 * reused by the next call; it grows (once, to the largest call so far) only
 * for a call that needs more. Allocated on a thread's first call and shared
 * by every wrapper on that thread, so calls on a retry path (PtlEQPoll,
 * PtlPut) and wrappers made per call never grow the heap.
 */
interface Buffers {
  readonly scratch: number;
  readonly out: number;
  arena: number;
  arenaSize: number;
  used: number;
}
const BUFFERS = new WeakMap<UserCpu, Buffers>();
const ARENA_BYTES = 64 * WORD;

export class Portals {
  private b: Buffers | null = null;

  constructor(
    private readonly cpu: UserCpu,
    private readonly mem: Memory,
  ) {}

  private get scratch(): number {
    return this.b!.scratch;
  }

  private get outBuf(): number {
    return this.b!.out;
  }

  /** The thread's buffers (made on its first call); a new call starts with an empty arena. */
  private *buffers(): U {
    if (this.b === null) {
      let b = BUFFERS.get(this.cpu);
      if (b === undefined) {
        const scratch = yield* this.mem.alloc(32 * WORD);
        const out = yield* this.mem.alloc(256 * WORD);
        b = { scratch, out, arena: yield* this.mem.alloc(ARENA_BYTES), arenaSize: ARENA_BYTES, used: 0 };
        BUFFERS.set(this.cpu, b);
      }
      this.b = b;
    }
    this.b.used = 0;
  }

  /** `n` bytes of the arena for this call's pointed-to arguments (16-byte aligned). */
  private *argAlloc(n: number): U<number> {
    const b = this.b!;
    const want = Math.ceil(Math.max(1, n) / 16) * 16;
    if (b.used + want > b.arenaSize) {
      // Earlier pieces of this call stay where they are, in the old arena.
      b.arenaSize = Math.max(2 * b.arenaSize, want);
      b.arena = yield* this.mem.alloc(b.arenaSize);
      b.used = 0;
    }
    const va = b.arena + b.used;
    b.used += want;
    return va;
  }

  private *call(nr: number, words: readonly Word[]): U<number> {
    if (this.b === null) yield* this.buffers();
    yield* this.writeWords(this.scratch, words);
    return yield* syscallN(this.cpu, nr, words.length === 0 ? 0 : this.scratch);
  }

  private *writeWords(va: number, words: readonly Word[]): U {
    const b = new Uint8Array(words.length * WORD);
    const dv = new DataView(b.buffer);
    words.forEach((w, i) => dv.setBigUint64(i * WORD, BigInt.asUintN(64, BigInt(typeof w === 'number' ? Math.trunc(w) : w)), true));
    if (b.length > 0) yield* this.mem.store(va, b);
  }

  private *readWords(va: number, n: number): U<bigint[]> {
    const b = yield* this.mem.load(va, n * WORD);
    const dv = new DataView(b.buffer);
    return Array.from({ length: n }, (_, i) => dv.getBigUint64(i * WORD, true));
  }

  /** A struct written into this call's arena; returns its address. */
  private *struct(name: keyof typeof STRUCTS, values: Record<string, Word | undefined>): U<number> {
    const fields = STRUCTS[name] as readonly string[];
    const va = yield* this.argAlloc(fields.length * WORD);
    yield* this.writeWords(va, fields.map((f) => values[f] ?? 0));
    return va;
  }

  private outPtr(o: Out | undefined, slot = 0): number {
    return o?.out !== undefined ? o.out : this.outBuf + slot * WORD;
  }

  private *outWord(o: Out | undefined, slot = 0): U<number> {
    if (o?.out !== undefined) return 0;
    return Number((yield* this.readWords(this.outBuf + slot * WORD, 1))[0]);
  }

  *PtlInit(): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_init, []);
  }

  *PtlFini(): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_fini, []);
  }

  *PtlNIInit(iface: number, options: number, pid: number, desired: Partial<Record<string, number>> | null, o?: Out & { actual?: boolean }): U<{ rc: number; ni: number; actual: Record<string, number> }> {
    yield* this.buffers();
    const d = desired === null ? 0 : yield* this.struct('limits', desired);
    const actualPtr = this.outBuf + 8 * WORD;
    const rc = yield* this.call(SYS.ptl_ni_init, [iface, options, pid, d, o?.actual === false ? 0 : actualPtr, this.outPtr(o)]);
    const ni = yield* this.outWord(o);
    const aw = yield* this.readWords(actualPtr, STRUCTS.limits.length);
    const actual = Object.fromEntries(STRUCTS.limits.map((n, i) => [n, Number(aw[i])]));
    return { rc, ni, actual };
  }

  *PtlNIFini(ni: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_ni_fini, [ni]);
  }

  *PtlNIStatus(ni: number, register: number, o?: Out): U<{ rc: number; status: number }> {
    yield* this.buffers();
    const rc = yield* this.call(SYS.ptl_ni_status, [ni, register, this.outPtr(o)]);
    return { rc, status: yield* this.outWord(o) };
  }

  *PtlNIHandle(handle: number, o?: Out): U<{ rc: number; ni: number }> {
    yield* this.buffers();
    const rc = yield* this.call(SYS.ptl_ni_handle, [handle, this.outPtr(o)]);
    return { rc, ni: yield* this.outWord(o) };
  }

  *PtlSetMap(ni: number, map: readonly { nid: number; pid: number }[]): U<number> {
    yield* this.buffers();
    const va = yield* this.argAlloc(Math.max(1, map.length) * 2 * WORD);
    yield* this.writeWords(va, map.flatMap((m) => [m.nid, m.pid]));
    return yield* this.call(SYS.ptl_set_map, [ni, map.length, va]);
  }

  *PtlGetMap(ni: number, size: number, o?: Out): U<{ rc: number; map: { nid: number; pid: number }[]; actualSize: number }> {
    yield* this.buffers();
    const va = yield* this.argAlloc(Math.max(1, size) * 2 * WORD);
    const rc = yield* this.call(SYS.ptl_get_map, [ni, size, size > 0 ? va : 0, this.outPtr(o)]);
    const actualSize = yield* this.outWord(o);
    const w = size > 0 ? yield* this.readWords(va, 2 * size) : [];
    return { rc, actualSize, map: Array.from({ length: Math.min(size, actualSize) }, (_, i) => ({ nid: Number(w[2 * i]), pid: Number(w[2 * i + 1]) })) };
  }

  *PtlGetUid(ni: number, o?: Out): U<{ rc: number; uid: number }> {
    yield* this.buffers();
    const rc = yield* this.call(SYS.ptl_get_uid, [ni, this.outPtr(o)]);
    return { rc, uid: yield* this.outWord(o) };
  }

  *PtlGetId(ni: number, o?: Out): U<{ rc: number; nid: number; pid: number; rank: number }> {
    yield* this.buffers();
    const rc = yield* this.call(SYS.ptl_get_id, [ni, this.outPtr(o)]);
    const first = yield* this.outWord(o, 0);
    const pid = yield* this.outWord(o, 1);
    return { rc, nid: first, pid, rank: first };
  }

  *PtlPTAlloc(ni: number, options: number, eq: number, index: number, o?: Out): U<{ rc: number; index: number }> {
    yield* this.buffers();
    const rc = yield* this.call(SYS.ptl_pt_alloc, [ni, options, eq, index, this.outPtr(o)]);
    return { rc, index: yield* this.outWord(o) };
  }

  *PtlPTFree(ni: number, index: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_pt_free, [ni, index]);
  }

  *PtlPTDisable(ni: number, index: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_pt_disable, [ni, index]);
  }

  *PtlPTEnable(ni: number, index: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_pt_enable, [ni, index]);
  }

  *PtlEQAlloc(ni: number, count: number, o?: Out): U<{ rc: number; eq: number }> {
    yield* this.buffers();
    const rc = yield* this.call(SYS.ptl_eq_alloc, [ni, count, this.outPtr(o)]);
    return { rc, eq: yield* this.outWord(o) };
  }

  *PtlEQFree(eq: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_eq_free, [eq]);
  }

  private *event(o: Out | undefined): U<PtlEvent | null> {
    if (o?.out !== undefined) return null;
    const w = yield* this.readWords(this.outBuf, STRUCTS.event.length);
    const ev: Record<string, number | bigint> = {};
    STRUCTS.event.forEach((f, i) => (ev[f] = f === 'user_ptr' || f === 'hdr_data' || f === 'match_bits' ? w[i] : Number(BigInt.asIntN(64, w[i]))));
    return ev as unknown as PtlEvent;
  }

  *PtlEQGet(eq: number, o?: Out): U<{ rc: number; event: PtlEvent | null }> {
    yield* this.buffers();
    const rc = yield* this.call(SYS.ptl_eq_get, [eq, this.outPtr(o)]);
    return { rc, event: rc === PTL.OK || rc === PTL.EQ_DROPPED ? yield* this.event(o) : null };
  }

  *PtlEQWait(eq: number, o?: Out): U<{ rc: number; event: PtlEvent | null }> {
    yield* this.buffers();
    const rc = yield* this.call(SYS.ptl_eq_wait, [eq, this.outPtr(o)]);
    return { rc, event: rc === PTL.OK || rc === PTL.EQ_DROPPED ? yield* this.event(o) : null };
  }

  *PtlEQPoll(eqs: readonly number[], timeoutMs: number, o?: Out & { which?: number }): U<{ rc: number; event: PtlEvent | null; which: number }> {
    yield* this.buffers();
    const va = yield* this.argAlloc(Math.max(1, eqs.length) * WORD);
    yield* this.writeWords(va, eqs);
    const whichPtr = o?.which !== undefined ? o.which : this.outBuf + 200 * WORD;
    yield* this.writeWords(this.outBuf + 200 * WORD, [-1]);
    const rc = yield* this.call(SYS.ptl_eq_poll, [va, eqs.length, timeoutMs, this.outPtr(o), whichPtr]);
    const which = Number(BigInt.asIntN(64, (yield* this.readWords(this.outBuf + 200 * WORD, 1))[0]));
    return { rc, event: rc === PTL.OK || rc === PTL.EQ_DROPPED ? yield* this.event(o) : null, which };
  }

  *PtlCTAlloc(ni: number, o?: Out): U<{ rc: number; ct: number }> {
    yield* this.buffers();
    const rc = yield* this.call(SYS.ptl_ct_alloc, [ni, this.outPtr(o)]);
    return { rc, ct: yield* this.outWord(o) };
  }

  *PtlCTFree(ct: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_ct_free, [ct]);
  }

  private *ctEvent(o: Out | undefined): U<{ success: number; failure: number }> {
    return { success: yield* this.outWord(o, 0), failure: yield* this.outWord(o, 1) };
  }

  *PtlCTGet(ct: number, o?: Out): U<{ rc: number; success: number; failure: number }> {
    yield* this.buffers();
    const rc = yield* this.call(SYS.ptl_ct_get, [ct, this.outPtr(o)]);
    return { rc, ...(yield* this.ctEvent(o)) };
  }

  *PtlCTWait(ct: number, test: number, o?: Out): U<{ rc: number; success: number; failure: number }> {
    yield* this.buffers();
    const rc = yield* this.call(SYS.ptl_ct_wait, [ct, test, this.outPtr(o)]);
    return { rc, ...(yield* this.ctEvent(o)) };
  }

  *PtlCTPoll(cts: readonly number[], tests: readonly number[], timeoutMs: number, o?: Out): U<{ rc: number; success: number; failure: number; which: number }> {
    yield* this.buffers();
    const hv = yield* this.argAlloc(Math.max(1, cts.length) * WORD);
    const tv = yield* this.argAlloc(Math.max(1, tests.length) * WORD);
    yield* this.writeWords(hv, cts);
    yield* this.writeWords(tv, tests);
    yield* this.writeWords(this.outBuf + 200 * WORD, [-1]);
    const rc = yield* this.call(SYS.ptl_ct_poll, [hv, tv, cts.length, timeoutMs, this.outPtr(o), this.outBuf + 200 * WORD]);
    const which = Number(BigInt.asIntN(64, (yield* this.readWords(this.outBuf + 200 * WORD, 1))[0]));
    return { rc, which, ...(yield* this.ctEvent(o)) };
  }

  *PtlCTSet(ct: number, success: number, failure: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_ct_set, [ct, success, failure]);
  }

  *PtlCTInc(ct: number, success: number, failure: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_ct_inc, [ct, success, failure]);
  }

  *PtlCTCancelTriggered(ct: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_ct_cancel_triggered, [ct]);
  }

  *PtlMDBind(ni: number, md: PtlMd, o?: Out): U<{ rc: number; md: number }> {
    yield* this.buffers();
    const va = yield* this.struct('md', { start: md.start, length: md.length, options: md.options ?? 0, eq_handle: md.eq_handle ?? PTL.EQ_NONE, ct_handle: md.ct_handle ?? PTL.CT_NONE });
    const rc = yield* this.call(SYS.ptl_md_bind, [ni, va, this.outPtr(o)]);
    return { rc, md: yield* this.outWord(o) };
  }

  *PtlMDRelease(md: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_md_release, [md]);
  }

  private *entry(e: PtlEntry): U<number> {
    return yield* this.struct('entry', {
      start: e.start,
      length: e.length,
      ct_handle: e.ct_handle ?? PTL.CT_NONE,
      uid: e.uid ?? PTL.UID_ANY,
      options: e.options ?? 0,
      // Unspecified: any source, in the all-ones form both NI kinds accept.
      match_id_nid: e.match_id_nid ?? 0xffffffff,
      match_id_pid: e.match_id_pid ?? 0xffffffff,
      match_bits: e.match_bits ?? 0n,
      ignore_bits: e.ignore_bits ?? 0n,
      min_free: e.min_free ?? 0,
    });
  }

  *PtlMEAppend(ni: number, pt: number, me: PtlEntry, list: number, userPtr: Word, o?: Out): U<{ rc: number; handle: number }> {
    yield* this.buffers();
    const rc = yield* this.call(SYS.ptl_append, [ni, pt, yield* this.entry(me), list, userPtr, this.outPtr(o), 0]);
    return { rc, handle: yield* this.outWord(o) };
  }

  *PtlLEAppend(ni: number, pt: number, le: PtlEntry, list: number, userPtr: Word, o?: Out): U<{ rc: number; handle: number }> {
    yield* this.buffers();
    const rc = yield* this.call(SYS.ptl_append, [ni, pt, yield* this.entry(le), list, userPtr, this.outPtr(o), 1]);
    return { rc, handle: yield* this.outWord(o) };
  }

  *PtlMEUnlink(handle: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_unlink, [handle]);
  }

  *PtlLEUnlink(handle: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_unlink, [handle]);
  }

  *PtlMESearch(ni: number, pt: number, me: PtlEntry, searchOp: number, userPtr: Word): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_search, [ni, pt, yield* this.entry(me), searchOp, userPtr, 0]);
  }

  *PtlLESearch(ni: number, pt: number, le: PtlEntry, searchOp: number, userPtr: Word): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_search, [ni, pt, yield* this.entry(le), searchOp, userPtr, 1]);
  }

  private *process(p: PtlProcess): U<number> {
    return yield* this.struct('process', 'rank' in p ? { nid: p.rank, pid: 0 } : { nid: p.nid, pid: p.pid });
  }

  private *operand(v: Uint8Array | null): U<number> {
    if (v === null) return 0;
    const va = yield* this.argAlloc(32);
    yield* this.mem.store(va, v);
    return va;
  }

  /** The argument words of each operation, shared by the plain and triggered forms. */
  private *putWords(md: number, localOffset: number, length: number, ackReq: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word, hdrData: Word): U<Word[]> {
    return [md, localOffset, length, ackReq, yield* this.process(target), pt, match, remoteOffset, userPtr, hdrData];
  }

  *PtlPut(md: number, localOffset: number, length: number, ackReq: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word, hdrData: Word): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_put, yield* this.putWords(md, localOffset, length, ackReq, target, pt, match, remoteOffset, userPtr, hdrData));
  }

  private *getWords(md: number, localOffset: number, length: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word): U<Word[]> {
    return [md, localOffset, length, yield* this.process(target), pt, match, remoteOffset, userPtr];
  }

  *PtlGet(md: number, localOffset: number, length: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_get, yield* this.getWords(md, localOffset, length, target, pt, match, remoteOffset, userPtr));
  }

  private *atomicWords(md: number, localOffset: number, length: number, ackReq: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word, hdrData: Word, op: number, type: number): U<Word[]> {
    return [...(yield* this.putWords(md, localOffset, length, ackReq, target, pt, match, remoteOffset, userPtr, hdrData)), op, type];
  }

  *PtlAtomic(md: number, localOffset: number, length: number, ackReq: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word, hdrData: Word, op: number, type: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_atomic, yield* this.atomicWords(md, localOffset, length, ackReq, target, pt, match, remoteOffset, userPtr, hdrData, op, type));
  }

  private *fetchWords(getMd: number, getOffset: number, putMd: number, putOffset: number, length: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word, hdrData: Word, op: number, type: number): U<Word[]> {
    return [getMd, getOffset, putMd, putOffset, length, yield* this.process(target), pt, match, remoteOffset, userPtr, hdrData, op, type];
  }

  *PtlFetchAtomic(getMd: number, getOffset: number, putMd: number, putOffset: number, length: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word, hdrData: Word, op: number, type: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_fetch_atomic, yield* this.fetchWords(getMd, getOffset, putMd, putOffset, length, target, pt, match, remoteOffset, userPtr, hdrData, op, type));
  }

  private *swapWords(getMd: number, getOffset: number, putMd: number, putOffset: number, length: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word, hdrData: Word, operand: Uint8Array | null, op: number, type: number): U<Word[]> {
    return [getMd, getOffset, putMd, putOffset, length, yield* this.process(target), pt, match, remoteOffset, userPtr, hdrData, yield* this.operand(operand), op, type];
  }

  *PtlSwap(getMd: number, getOffset: number, putMd: number, putOffset: number, length: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word, hdrData: Word, operand: Uint8Array | null, op: number, type: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_swap, yield* this.swapWords(getMd, getOffset, putMd, putOffset, length, target, pt, match, remoteOffset, userPtr, hdrData, operand, op, type));
  }

  private *triggered(kind: number, words: readonly Word[], ct: number, threshold: number): U<number> {
    const va = yield* this.argAlloc(words.length * WORD);
    yield* this.writeWords(va, words);
    return yield* this.call(SYS.ptl_triggered, [kind, va, ct, threshold]);
  }

  *PtlTriggeredPut(md: number, localOffset: number, length: number, ackReq: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word, hdrData: Word, ct: number, threshold: number): U<number> {
    yield* this.buffers();
    return yield* this.triggered(0, yield* this.putWords(md, localOffset, length, ackReq, target, pt, match, remoteOffset, userPtr, hdrData), ct, threshold);
  }

  *PtlTriggeredGet(md: number, localOffset: number, length: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word, ct: number, threshold: number): U<number> {
    yield* this.buffers();
    return yield* this.triggered(1, yield* this.getWords(md, localOffset, length, target, pt, match, remoteOffset, userPtr), ct, threshold);
  }

  *PtlTriggeredAtomic(md: number, localOffset: number, length: number, ackReq: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word, hdrData: Word, op: number, type: number, ct: number, threshold: number): U<number> {
    yield* this.buffers();
    return yield* this.triggered(2, yield* this.atomicWords(md, localOffset, length, ackReq, target, pt, match, remoteOffset, userPtr, hdrData, op, type), ct, threshold);
  }

  *PtlTriggeredFetchAtomic(getMd: number, getOffset: number, putMd: number, putOffset: number, length: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word, hdrData: Word, op: number, type: number, ct: number, threshold: number): U<number> {
    yield* this.buffers();
    return yield* this.triggered(3, yield* this.fetchWords(getMd, getOffset, putMd, putOffset, length, target, pt, match, remoteOffset, userPtr, hdrData, op, type), ct, threshold);
  }

  *PtlTriggeredSwap(getMd: number, getOffset: number, putMd: number, putOffset: number, length: number, target: PtlProcess, pt: number, match: bigint, remoteOffset: number, userPtr: Word, hdrData: Word, operand: Uint8Array | null, op: number, type: number, ct: number, threshold: number): U<number> {
    yield* this.buffers();
    return yield* this.triggered(4, yield* this.swapWords(getMd, getOffset, putMd, putOffset, length, target, pt, match, remoteOffset, userPtr, hdrData, operand, op, type), ct, threshold);
  }

  *PtlTriggeredCTInc(ct: number, success: number, failure: number, trigCt: number, threshold: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_triggered_ct, [ct, success, failure, trigCt, threshold, 0]);
  }

  *PtlTriggeredCTSet(ct: number, success: number, failure: number, trigCt: number, threshold: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_triggered_ct, [ct, success, failure, trigCt, threshold, 1]);
  }

  *PtlStartBundle(ni: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_start_bundle, [ni]);
  }

  *PtlEndBundle(ni: number): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_end_bundle, [ni]);
  }

  *PtlHandleIsEqual(a: number, b: number): U<boolean> {
    yield* this.buffers();
    return (yield* this.call(SYS.ptl_handle_is_equal, [a, b])) === 1;
  }

  *PtlAtomicSync(): U<number> {
    yield* this.buffers();
    return yield* this.call(SYS.ptl_atomic_sync, []);
  }
}
