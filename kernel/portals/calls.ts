// The Portals system calls (600 and up). Each takes a pointer to its
// arguments as 64-bit words in the C API's order; out-parameters are user
// pointers the kernel writes through copyout. A null out-pointer, a bad
// handle or an out-of-range value is PTL_ARG_INVALID; an unreadable argument
// block is -EFAULT, as for any syscall.

import { USER_VA_LIMIT } from '../../hw/mmu.ts';
import type { Cpu } from '../cpu.ts';
import type { Kernel } from '../kernel.ts';
import { type KPath, block, step } from '../step.ts';
import type { SyscallCtx } from '../syscalls/context.ts';
import { argPtr } from '../syscalls/context.ts';
import type { SyscallName } from '../syscalls/table.ts';
import { copyin, copyout } from '../uaccess.ts';
import { LIMIT_NAMES, PTL, TYPE_SIZE } from './defs.ts';
import { type SendArgs } from './initiator.ts';
import { type EntryDesc } from './lists.ts';
import { IFACES, type PortalsProcess, type TargetId } from './state.ts';
import { STRUCTS, field, words } from './layout.ts';
import { type NetworkInterface, type PtlEvent, handleKind } from './objects.ts';

type Words = bigint[];

function* readWords(c: SyscallCtx, va: number, n: number): KPath<Words> {
  if (n === 0) return [];
  const b = yield* copyin(c.k, c.cpu, c.p, va, 8 * n);
  const dv = new DataView(b.buffer);
  return Array.from({ length: n }, (_, i) => dv.getBigUint64(8 * i, true));
}

function* writeWords(c: SyscallCtx, va: number, ws: readonly (bigint | number)[]): KPath {
  const b = new Uint8Array(8 * ws.length);
  const dv = new DataView(b.buffer);
  ws.forEach((w, i) => dv.setBigUint64(8 * i, BigInt.asUintN(64, BigInt(w)), true));
  yield* copyout(c.k, c.cpu, c.p, va, b);
}

/** Reads n words through a user pointer; null when the pointer is 0 or unreadable. */
function* readStruct(c: SyscallCtx, va: number, n: number): KPath<Words | null> {
  if (va === 0) return null;
  try {
    return yield* readWords(c, va, n);
  } catch {
    return null;
  }
}

/** Reads a structure and checks each field by its type; null when unreadable or a field does not fit. */
function* readTyped(c: SyscallCtx, va: number, name: keyof typeof STRUCT_TYPES): KPath<Words | null> {
  const w = yield* readStruct(c, va, words(name));
  return w !== null && wordsFit(w, STRUCT_TYPES[name]) ? w : null;
}

/** Reads an array of handles; null when unreadable or one is not a 32-bit handle. */
function* readHandles(c: SyscallCtx, va: number, n: number): KPath<Words | null> {
  const w = yield* readStruct(c, va, n);
  return w !== null && w.every((h) => h <= 0xffffffffn) ? w : null;
}

/** Writes through an out-pointer; false when it is null or not writable. */
function* out(c: SyscallCtx, va: number, ws: readonly (bigint | number)[]): KPath<boolean> {
  if (va === 0) return false;
  try {
    yield* writeWords(c, va, ws);
    return true;
  } catch {
    return false;
  }
}

const num = (w: bigint) => (w > BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(w));
const u32 = (w: bigint) => Number(w & 0xffffffffn);
const i32 = (w: bigint) => Number(BigInt.asIntN(32, w));

function eventWords(ev: PtlEvent, logical: boolean): bigint[] {
  return [ev.type, ev.start, ev.userPtr, ev.hdrData, ev.matchBits, ev.rlength, ev.mlength, ev.remoteOffset, ev.uid, logical ? ev.rank : ev.nid, ev.pid, ev.ptIndex, ev.niFail, ev.atomicOp, ev.atomicType, ev.list].map((x) => BigInt.asUintN(64, BigInt(x)));
}

function entryDesc(w: Words, logical: boolean): EntryDesc {
  const f = (n: (typeof STRUCTS.entry)[number]) => w[field('entry', n)];
  return {
    start: num(f('start')),
    length: num(f('length')),
    ct: u32(f('ct_handle')),
    uid: u32(f('uid')),
    options: num(f('options')),
    // All ones is "any" in either form (PTL_RANK_ANY; never a valid nid or pid).
    matchNid: logical ? PTL.NID_ANY : u32(f('match_id_nid')) === 0xffffffff ? PTL.NID_ANY : u32(f('match_id_nid')),
    matchPid: logical ? PTL.PID_ANY : u32(f('match_id_pid')) === 0xffffffff ? PTL.PID_ANY : u32(f('match_id_pid')),
    matchRank: logical ? u32(f('match_id_nid')) : PTL.RANK_ANY,
    matchBits: f('match_bits'),
    ignoreBits: f('ignore_bits'),
    minFree: num(f('min_free')),
  };
}

type Handler = (c: SyscallCtx, pp: PortalsProcess, a: Words) => KPath<number>;

/**
 * What an argument word is, by the C API's type. Every word is checked
 * against its type before any handler code runs, and a word that does not fit
 * is PTL_ARG_INVALID: handlers never see a handle with high bits set (which
 * would alias another handle), a pointer outside user space, or a size or
 * offset that is not an exact JS number.
 */
export type WordType =
  | 'u32' // handles, interface, pid, nid, portal index: 32 bits
  | 'ptr' // a user address (0 is NULL)
  | 'size' // ptl_size_t lengths, counts and thresholds: exact in a JS number (< 2^53)
  | 'offset' // ptl_size_t offsets: exact in a JS number (< 2^53)
  | 'timeout' // ptl_time_t milliseconds: 32 bits, PTL_TIME_FOREVER = all ones
  | 'int' // C int (ack_req, list, op, datatype): a sign-extended 32-bit value
  | 'bits'; // match bits, user_ptr, hdr_data, booleans: any 64-bit value

const H = 'u32', P = 'ptr', S = 'size', O = 'offset', T = 'timeout', I = 'int', B = 'bits';

/** Each call's argument words, in the C API's order (the number of words each call reads). */
export const PTL_ARG_TYPES: Partial<Record<SyscallName, readonly WordType[]>> = {
  ptl_init: [], ptl_fini: [], ptl_ni_init: [H, S, H, P, P, P], ptl_ni_fini: [H], ptl_ni_status: [H, S, P], ptl_ni_handle: [H, P],
  ptl_set_map: [H, S, P], ptl_get_map: [H, S, P, P], ptl_get_uid: [H, P], ptl_get_id: [H, P],
  ptl_pt_alloc: [H, S, H, H, P], ptl_pt_free: [H, H], ptl_pt_disable: [H, H], ptl_pt_enable: [H, H],
  ptl_eq_alloc: [H, S, P], ptl_eq_free: [H], ptl_eq_get: [H, P], ptl_eq_wait: [H, P], ptl_eq_poll: [P, S, T, P, P],
  ptl_ct_alloc: [H, P], ptl_ct_free: [H], ptl_ct_get: [H, P], ptl_ct_wait: [H, S, P], ptl_ct_poll: [P, P, S, T, P, P],
  ptl_ct_set: [H, S, S], ptl_ct_inc: [H, S, S], ptl_ct_cancel_triggered: [H], ptl_md_bind: [H, P, P], ptl_md_release: [H],
  ptl_append: [H, H, P, I, B, P, B], ptl_unlink: [H], ptl_search: [H, H, P, I, B, B],
  ptl_put: [H, O, S, I, P, H, B, O, B, B],
  ptl_get: [H, O, S, P, H, B, O, B],
  ptl_atomic: [H, O, S, I, P, H, B, O, B, B, I, I],
  ptl_fetch_atomic: [H, O, H, O, S, P, H, B, O, B, B, I, I],
  ptl_swap: [H, O, H, O, S, P, H, B, O, B, B, P, I, I],
  ptl_triggered: [S, P, H, S], ptl_triggered_ct: [H, S, S, H, S, B],
  ptl_start_bundle: [H], ptl_end_bundle: [H], ptl_handle_is_equal: [B, B], ptl_atomic_sync: [],
};

/** The fields of the structures the kernel reads, by the same types (limits are read saturating, see ptl_ni_init). */
const STRUCT_TYPES = {
  md: [P, S, S, H, H],
  entry: [P, S, H, H, S, H, H, B, B, S],
  process: [H, H],
} as const satisfies Partial<Record<keyof typeof STRUCTS, readonly WordType[]>>;

const USER_TOP = BigInt(USER_VA_LIMIT);
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const I32_MIN = -(2n ** 31n);
const I32_MAX = 2n ** 31n - 1n;

function fits(w: bigint, type: WordType): boolean {
  switch (type) {
    case 'u32':
    case 'timeout':
      return w <= 0xffffffffn;
    case 'ptr':
      return w < USER_TOP;
    case 'size':
    case 'offset':
      return w <= SAFE;
    case 'int': {
      const v = BigInt.asIntN(64, w);
      return v >= I32_MIN && v <= I32_MAX;
    }
    case 'bits':
      return true;
  }
}

/** True when every word fits its declared type. */
function wordsFit(ws: Words, types: readonly WordType[]): boolean {
  for (let i = 0; i < types.length; i++) if (!fits(ws[i], types[i])) return false;
  return true;
}

function niOf(pp: PortalsProcess, w: bigint): NetworkInterface | null {
  return pp.ni(u32(w));
}

/** Decodes an operation's words into send arguments (PtlPut, PtlGet, PtlAtomic, PtlFetchAtomic, PtlSwap). */
function* sendArgs(c: SyscallCtx, kind: 'put' | 'get' | 'atomic' | 'fetch' | 'swap', a: Words): KPath<SendArgs | null> {
  const proc = (w: bigint) => readTyped(c, num(w), 'process');
  let t: Words | null;
  const common = (md: number | null, getMd: number | null, putOff: number, getOff: number, length: number, ackReq: number, tw: Words, pt: bigint, match: bigint, roff: bigint, up: bigint, hdr: bigint, op: number, type: number, operand: Uint8Array): SendArgs => ({
    op: kind,
    putMd: md,
    putOffset: putOff,
    getMd,
    getOffset: getOff,
    length,
    ackReq,
    target: { nid: u32(tw[0]), pid: u32(tw[1]), rank: u32(tw[0]) } satisfies TargetId,
    ptIndex: u32(pt),
    matchBits: match,
    remoteOffset: num(roff),
    userPtr: up,
    hdrData: hdr,
    atomOp: op,
    atomType: type,
    operand,
  });
  const none = new Uint8Array(32);
  switch (kind) {
    case 'put':
      t = yield* proc(a[4]);
      return t && common(u32(a[0]), null, num(a[1]), 0, num(a[2]), i32(a[3]), t, a[5], a[6], a[7], a[8], a[9], 0, 0, none);
    case 'get':
      t = yield* proc(a[3]);
      return t && common(null, u32(a[0]), 0, num(a[1]), num(a[2]), 0, t, a[4], a[5], a[6], a[7], 0n, 0, 0, none);
    case 'atomic':
      t = yield* proc(a[4]);
      return t && common(u32(a[0]), null, num(a[1]), 0, num(a[2]), i32(a[3]), t, a[5], a[6], a[7], a[8], a[9], i32(a[10]), i32(a[11]), none);
    case 'fetch':
      t = yield* proc(a[5]);
      return t && common(u32(a[2]), u32(a[0]), num(a[3]), num(a[1]), num(a[4]), 0, t, a[6], a[7], a[8], a[9], a[10], i32(a[11]), i32(a[12]), none);
    case 'swap': {
      t = yield* proc(a[5]);
      const type = i32(a[13]);
      const size = TYPE_SIZE[type] ?? 0;
      let operand = none;
      if (num(a[11]) !== 0 && size > 0) {
        try {
          operand = new Uint8Array(32);
          operand.set(yield* copyin(c.k, c.cpu, c.p, num(a[11]), size));
        } catch {
          return null;
        }
      }
      return t && common(u32(a[2]), u32(a[0]), num(a[3]), num(a[1]), num(a[4]), 0, t, a[6], a[7], a[8], a[9], a[10], i32(a[12]), type, operand);
    }
  }
}

const SEND_KIND = ['put', 'get', 'atomic', 'fetch', 'swap'] as const;
const SEND_CALL = { put: 'ptl_put', get: 'ptl_get', atomic: 'ptl_atomic', fetch: 'ptl_fetch_atomic', swap: 'ptl_swap' } as const;

function* doSend(c: SyscallCtx, pp: PortalsProcess, kind: (typeof SEND_KIND)[number], a: Words): KPath<number> {
  const args = yield* sendArgs(c, kind, a);
  if (args === null) return PTL.ARG_INVALID;
  const r = c.k.portals.send(pp, args);
  if (r.work) yield* r.work;
  return r.rc;
}

/** Blocks the caller until `ready()` or the timeout (ms; PTL_TIME_FOREVER waits forever). Returns true if ready. */
function* waitUntil(c: SyscallCtx, pp: PortalsProcess, ready: () => boolean, timeoutMs: number): KPath<boolean> {
  const deadline = timeoutMs === PTL.TIME_FOREVER ? Infinity : c.k.engine.now + timeoutMs * 1e9;
  while (!ready()) {
    if (c.k.engine.now >= deadline) return false;
    pp.waiters.add(c.t);
    if (deadline !== Infinity) {
      const t = c.t;
      c.k.sleepUntil(t, deadline, 'sleep', function* (k, cpu: Cpu) {
        pp.waiters.delete(t);
        yield* k.wake(t, 'timeout', cpu);
      });
    }
    yield* block();
  }
  return true;
}

const HANDLERS: Partial<Record<SyscallName, Handler>> = {
  *ptl_init(_c, pp) {
    pp.initCount++;
    return PTL.OK;
  },
  *ptl_fini(_c, pp) {
    if (pp.initCount > 0) pp.initCount--;
    return PTL.OK;
  },
  *ptl_ni_init(c, pp, a) {
    const desiredPtr = num(a[3]);
    let desired = null;
    if (desiredPtr !== 0) {
      const w = yield* readStruct(c, desiredPtr, words('limits'));
      if (w === null) return PTL.ARG_INVALID;
      // A limit asks for at most that much: one too large for a JS number asks for the most there is.
      desired = Object.fromEntries(LIMIT_NAMES.map((n, i) => [n, w[i] > SAFE ? Number.MAX_SAFE_INTEGER : Number(w[i])]));
    }
    const iface = u32(a[0]) === PTL.IFACE_DEFAULT ? 0 : u32(a[0]);
    if (!(iface < IFACES)) return PTL.ARG_INVALID;
    if (num(a[5]) === 0) return PTL.ARG_INVALID;
    const r = c.k.portals.niInit(pp, num(a[1]), desired, iface);
    if (r.rc !== PTL.OK) return r.rc;
    if (!(yield* out(c, num(a[5]), [r.ni!.handle]))) return PTL.ARG_INVALID;
    if (num(a[4]) !== 0) yield* out(c, num(a[4]), LIMIT_NAMES.map((n) => r.ni!.limits[n]));
    return PTL.OK;
  },
  *ptl_ni_fini(c, pp, a) {
    return c.k.portals.niFini(pp, u32(a[0]));
  },
  *ptl_ni_status(c, pp, a) {
    const ni = niOf(pp, a[0]);
    const reg = num(a[1]);
    if (ni === null || !(reg >= 0 && reg < 3)) return PTL.ARG_INVALID;
    return (yield* out(c, num(a[2]), [ni.status[reg]])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_ni_handle(c, pp, a) {
    const h = u32(a[0]);
    const kind = handleKind(h);
    const ni = kind === null || kind === 'ni' ? pp.ni(h) : pp.owner(h);
    if (ni === null) return PTL.ARG_INVALID;
    return (yield* out(c, num(a[1]), [ni.handle])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_set_map(c, pp, a) {
    const ni = niOf(pp, a[0]);
    const size = num(a[1]);
    if (ni === null || !ni.logical || !(size > 0 && size <= 1 << 20)) return PTL.ARG_INVALID;
    if (ni.map !== null) return PTL.IGNORED;
    const w = yield* readStruct(c, num(a[2]), 2 * size);
    if (w === null || w.some((x) => x > 0xffffffffn)) return PTL.ARG_INVALID;
    ni.map = Array.from({ length: size }, (_, i) => ({ nid: u32(w[2 * i]), pid: u32(w[2 * i + 1]) }));
    return PTL.OK;
  },
  *ptl_get_map(c, pp, a) {
    const ni = niOf(pp, a[0]);
    if (ni === null || !ni.logical || ni.map === null) return PTL.ARG_INVALID;
    const size = num(a[1]);
    if (num(a[3]) === 0 || (size > 0 && num(a[2]) === 0)) return PTL.ARG_INVALID;
    const n = Math.min(size, ni.map.length);
    if (n > 0 && !(yield* out(c, num(a[2]), ni.map.slice(0, n).flatMap((m) => [m.nid, m.pid])))) return PTL.ARG_INVALID;
    return (yield* out(c, num(a[3]), [ni.map.length])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_get_uid(c, pp, a) {
    const ni = niOf(pp, a[0]);
    if (ni === null) return PTL.ARG_INVALID;
    return (yield* out(c, num(a[1]), [pp.process.info.uid])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_get_id(c, pp, a) {
    const ni = niOf(pp, a[0]);
    if (ni === null) return PTL.ARG_INVALID;
    const id = ni.logical ? [pp.process.info.rank, 0] : [c.k.nid, ni.pid];
    return (yield* out(c, num(a[1]), id)) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_pt_alloc(c, pp, a) {
    const ni = niOf(pp, a[0]);
    if (ni === null || num(a[4]) === 0) return PTL.ARG_INVALID;
    const r = c.k.portals.ptAlloc(ni, num(a[1]), u32(a[2]), u32(a[3]));
    if (r.rc !== PTL.OK) return r.rc;
    yield* out(c, num(a[4]), [r.index!]);
    return PTL.OK;
  },
  *ptl_pt_free(c, pp, a) {
    const ni = niOf(pp, a[0]);
    return ni === null ? PTL.ARG_INVALID : c.k.portals.ptFree(ni, u32(a[1]));
  },
  *ptl_pt_disable(c, pp, a) {
    const ni = niOf(pp, a[0]);
    return ni === null ? PTL.ARG_INVALID : c.k.portals.ptEnable(ni, u32(a[1]), false);
  },
  *ptl_pt_enable(c, pp, a) {
    const ni = niOf(pp, a[0]);
    return ni === null ? PTL.ARG_INVALID : c.k.portals.ptEnable(ni, u32(a[1]), true);
  },
  *ptl_eq_alloc(c, pp, a) {
    const ni = niOf(pp, a[0]);
    if (ni === null || num(a[2]) === 0) return PTL.ARG_INVALID;
    const r = c.k.portals.eqAlloc(ni, num(a[1]));
    if (r.rc !== PTL.OK) return r.rc;
    yield* out(c, num(a[2]), [r.eq!.handle]);
    return PTL.OK;
  },
  *ptl_eq_free(c, pp, a) {
    return yield* c.k.portals.eqFree(pp, u32(a[0]), c.cpu);
  },
  *ptl_eq_get(c, pp, a) {
    return yield* eqTake(c, pp, u32(a[0]), num(a[1]));
  },
  *ptl_eq_wait(c, pp, a) {
    const eq = c.k.portals.findEq(pp, u32(a[0]));
    if (eq === null || num(a[1]) === 0) return PTL.ARG_INVALID;
    const freed = () => c.k.portals.findEq(pp, eq.handle) === null;
    yield* waitUntil(c, pp, () => eq.events.length > 0 || freed(), PTL.TIME_FOREVER);
    if (freed()) return PTL.INTERRUPTED;
    return yield* eqTake(c, pp, eq.handle, num(a[1]));
  },
  *ptl_eq_poll(c, pp, a) {
    const size = num(a[1]);
    if (!(size > 0 && size <= 1024) || num(a[3]) === 0) return PTL.ARG_INVALID;
    const hs = yield* readHandles(c, num(a[0]), size);
    if (hs === null) return PTL.ARG_INVALID;
    const eqs = hs.map((h) => c.k.portals.findEq(pp, u32(h)));
    if (eqs.some((e) => e === null)) return PTL.ARG_INVALID;
    const ready = () => eqs.some((e) => e!.events.length > 0);
    if (!(yield* waitUntil(c, pp, ready, u32(a[2])))) return PTL.EQ_EMPTY;
    const which = eqs.findIndex((e) => e!.events.length > 0);
    if (num(a[4]) !== 0) yield* out(c, num(a[4]), [which]);
    return yield* eqTake(c, pp, eqs[which]!.handle, num(a[3]));
  },
  *ptl_ct_alloc(c, pp, a) {
    const ni = niOf(pp, a[0]);
    if (ni === null || num(a[1]) === 0) return PTL.ARG_INVALID;
    const r = c.k.portals.ctAlloc(ni);
    if (r.rc !== PTL.OK) return r.rc;
    yield* out(c, num(a[1]), [r.ct!.handle]);
    return PTL.OK;
  },
  *ptl_ct_free(c, pp, a) {
    return yield* c.k.portals.ctFree(pp, u32(a[0]), c.cpu);
  },
  *ptl_ct_get(c, pp, a) {
    const ct = c.k.portals.findCt(pp, u32(a[0]));
    if (ct === null) return PTL.ARG_INVALID;
    return (yield* out(c, num(a[1]), [ct.success, ct.failure])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_ct_wait(c, pp, a) {
    const ct = c.k.portals.findCt(pp, u32(a[0]));
    const test = num(a[1]);
    if (ct === null || num(a[2]) === 0) return PTL.ARG_INVALID;
    // A counter is done when it reaches the test or records any failure;
    // freeing it under a waiter interrupts the wait, as in the reference.
    const freed = () => c.k.portals.findCt(pp, ct.handle) === null;
    yield* waitUntil(c, pp, () => ct.success >= test || ct.failure > 0 || freed(), PTL.TIME_FOREVER);
    if (freed()) return PTL.INTERRUPTED;
    return (yield* out(c, num(a[2]), [ct.success, ct.failure])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_ct_poll(c, pp, a) {
    const size = num(a[2]);
    if (!(size > 0 && size <= 1024) || num(a[4]) === 0) return PTL.ARG_INVALID;
    const hs = yield* readHandles(c, num(a[0]), size);
    const tests = yield* readStruct(c, num(a[1]), size);
    if (hs === null || tests === null || tests.some((t) => t > SAFE)) return PTL.ARG_INVALID;
    const cts = hs.map((h) => c.k.portals.findCt(pp, u32(h)));
    if (cts.some((x) => x === null)) return PTL.ARG_INVALID;
    const hit = () => cts.findIndex((x, i) => x!.success >= num(tests[i]) || x!.failure > 0);
    if (!(yield* waitUntil(c, pp, () => hit() >= 0, u32(a[3])))) return PTL.CT_NONE_REACHED;
    const i = hit();
    if (num(a[5]) !== 0) yield* out(c, num(a[5]), [i]);
    return (yield* out(c, num(a[4]), [cts[i]!.success, cts[i]!.failure])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_ct_set(c, pp, a) {
    const ct = c.k.portals.findCt(pp, u32(a[0]));
    if (ct === null) return PTL.ARG_INVALID;
    yield* c.k.portals.ctAdd(pp, ct, num(a[1]), num(a[2]), c.cpu, true);
    return PTL.OK;
  },
  *ptl_ct_inc(c, pp, a) {
    const ct = c.k.portals.findCt(pp, u32(a[0]));
    // An increment adds to successes or to failures, not both (the reference refuses that).
    if (ct === null || (a[1] !== 0n && a[2] !== 0n)) return PTL.ARG_INVALID;
    yield* c.k.portals.ctAdd(pp, ct, num(a[1]), num(a[2]), c.cpu);
    return PTL.OK;
  },
  *ptl_ct_cancel_triggered(c, pp, a) {
    const ct = c.k.portals.findCt(pp, u32(a[0]));
    if (ct === null) return PTL.ARG_INVALID;
    ct.cancelTriggered();
    return PTL.OK;
  },
  *ptl_md_bind(c, pp, a) {
    const ni = niOf(pp, a[0]);
    const w = yield* readTyped(c, num(a[1]), 'md');
    if (ni === null || w === null || num(a[2]) === 0) return PTL.ARG_INVALID;
    const r = c.k.portals.mdBind(pp, ni, num(w[0]), num(w[1]), num(w[2]), u32(w[3]), u32(w[4]));
    if (r.rc !== PTL.OK) return r.rc;
    yield* out(c, num(a[2]), [r.md!.handle]);
    return PTL.OK;
  },
  *ptl_md_release(c, pp, a) {
    return c.k.portals.mdRelease(pp, u32(a[0]));
  },
  *ptl_append(c, pp, a) {
    const ni = niOf(pp, a[0]);
    const w = yield* readTyped(c, num(a[2]), 'entry');
    if (ni === null || w === null || num(a[5]) === 0) return PTL.ARG_INVALID;
    const r = c.k.portals.append(pp, ni, u32(a[1]), a[6] !== 0n ? 'le' : 'me', entryDesc(w, ni.logical), num(a[3]), a[4], c.cpu);
    if (r.rc !== PTL.OK) return r.rc;
    yield* out(c, num(a[5]), [r.entry!.handle]);
    yield* r.work!;
    return PTL.OK;
  },
  *ptl_unlink(c, pp, a) {
    return c.k.portals.unlink(pp, u32(a[0]));
  },
  *ptl_search(c, pp, a) {
    const ni = niOf(pp, a[0]);
    const w = yield* readTyped(c, num(a[2]), 'entry');
    if (ni === null || w === null) return PTL.ARG_INVALID;
    return yield* c.k.portals.search(pp, ni, u32(a[1]), a[5] !== 0n ? 'le' : 'me', entryDesc(w, ni.logical), num(a[3]), a[4], c.cpu);
  },
  *ptl_put(c, pp, a) {
    return yield* doSend(c, pp, 'put', a);
  },
  *ptl_get(c, pp, a) {
    return yield* doSend(c, pp, 'get', a);
  },
  *ptl_atomic(c, pp, a) {
    return yield* doSend(c, pp, 'atomic', a);
  },
  *ptl_fetch_atomic(c, pp, a) {
    return yield* doSend(c, pp, 'fetch', a);
  },
  *ptl_swap(c, pp, a) {
    return yield* doSend(c, pp, 'swap', a);
  },
  *ptl_triggered(c, pp, a) {
    const kind = SEND_KIND[num(a[0])];
    const ct = c.k.portals.findCt(pp, u32(a[2]));
    if (kind === undefined || ct === null) return PTL.ARG_INVALID;
    const types = PTL_ARG_TYPES[SEND_CALL[kind]]!;
    const inner = yield* readStruct(c, num(a[1]), types.length);
    if (inner === null || !wordsFit(inner, types)) return PTL.ARG_INVALID;
    const args = yield* sendArgs(c, kind, inner);
    if (args === null) return PTL.ARG_INVALID;
    // Validate now (a bad operation fails at the call), send when the counter gets there.
    const k = c.k;
    const probe = k.portals.send(pp, args, true);
    if (probe.rc !== PTL.OK) return probe.rc;
    yield step('portals', 'trigger', k.profile.values['kernel.portalsEventCycles'], `${kind} at ${num(a[3])}`);
    yield* k.portals.trigger(ct, num(a[3]), probe.fire!, c.cpu, () => k.portals.abandon(probe.opId!), probe.ni);
    return PTL.OK;
  },
  *ptl_triggered_ct(c, pp, a) {
    const ct = c.k.portals.findCt(pp, u32(a[0]));
    const trig = c.k.portals.findCt(pp, u32(a[3]));
    if (ct === null || trig === null) return PTL.ARG_INVALID;
    const k = c.k;
    const set = a[5] !== 0n;
    yield step('portals', 'trigger', k.profile.values['kernel.portalsEventCycles'], `ct ${set ? 'set' : 'inc'} at ${num(a[4])}`);
    yield* k.portals.trigger(trig, num(a[4]), (cpu) => k.portals.ctAdd(pp, ct, num(a[1]), num(a[2]), cpu, set), c.cpu);
    return PTL.OK;
  },
  *ptl_start_bundle(_c, pp, a) {
    return niOf(pp, a[0]) === null ? PTL.ARG_INVALID : PTL.OK;
  },
  *ptl_end_bundle(_c, pp, a) {
    return niOf(pp, a[0]) === null ? PTL.ARG_INVALID : PTL.OK;
  },
  *ptl_handle_is_equal(_c, _pp, a) {
    return u32(a[0]) === u32(a[1]) ? 1 : 0;
  },
  *ptl_atomic_sync() {
    return PTL.OK;
  },
};

/** Takes the next event of an EQ into a user event struct. */
function* eqTake(c: SyscallCtx, pp: PortalsProcess, h: number, eventPtr: number): KPath<number> {
  const eq = c.k.portals.findEq(pp, h);
  if (eq === null || eventPtr === 0) return PTL.ARG_INVALID;
  const ev = eq.events.shift();
  if (ev === undefined) return PTL.EQ_EMPTY;
  const ni = pp.owner(h)!;
  if (!(yield* out(c, eventPtr, eventWords(ev, ni.logical)))) return PTL.ARG_INVALID;
  if (eq.dropped) {
    eq.dropped = false;
    return PTL.EQ_DROPPED;
  }
  return PTL.OK;
}

export function registerPortals(k: Kernel): void {
  for (const [name, h] of Object.entries(HANDLERS) as [SyscallName, Handler][]) {
    const types = PTL_ARG_TYPES[name];
    if (types === undefined) throw new Error(`no argument types for ${name}`);
    const n = types.length;
    k.registerSyscall(name, function* (c) {
      const ptr = argPtr(c, 0);
      let a: Words;
      if (n === 0) a = [];
      else if (ptr === 0) return PTL.ARG_INVALID;
      else a = yield* readWords(c, ptr, n);
      const pp = c.k.portals.state(c.p);
      if (pp.initCount === 0 && name !== 'ptl_init' && name !== 'ptl_fini' && name !== 'ptl_handle_is_equal') return PTL.NO_INIT;
      if (!wordsFit(a, types)) return PTL.ARG_INVALID;
      return yield* h(c, pp, a);
    });
  }
}
