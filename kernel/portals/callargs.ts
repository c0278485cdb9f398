// Marshalling the Portals system calls' arguments: each call passes a
// pointer to its argument words in the C API's order, and every word is
// checked against its C type before any handler runs. Structures are read
// and out-parameters written through user pointers (copyin/copyout); a null
// or unwritable out-pointer, like a word that does not fit, is
// PTL_ARG_INVALID to the caller.

import { USER_VA_LIMIT } from '../../hw/mmu.ts';
import type { KPath } from '../step.ts';
import type { SyscallCtx } from '../syscalls/context.ts';
import type { SyscallName } from '../syscalls/table.ts';
import { copyin, copyout } from '../uaccess.ts';
import type { PortalsProcess } from './state.ts';
import { STRUCTS, words } from './layout.ts';
import type { NetworkInterface } from './objects.ts';

export type Words = bigint[];

export function* readWords(c: SyscallCtx, va: number, n: number): KPath<Words> {
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
export function* readStruct(c: SyscallCtx, va: number, n: number): KPath<Words | null> {
  if (va === 0) return null;
  try {
    return yield* readWords(c, va, n);
  } catch {
    return null;
  }
}

/** Reads a structure and checks each field by its type; null when unreadable or a field does not fit. */
export function* readTyped(c: SyscallCtx, va: number, name: keyof typeof STRUCT_TYPES): KPath<Words | null> {
  const w = yield* readStruct(c, va, words(name));
  return w !== null && wordsFit(w, STRUCT_TYPES[name]) ? w : null;
}

/** Reads an array of handles; null when unreadable or one is not a 32-bit handle. */
export function* readHandles(c: SyscallCtx, va: number, n: number): KPath<Words | null> {
  const w = yield* readStruct(c, va, n);
  return w !== null && w.every((h) => h <= 0xffffffffn) ? w : null;
}

/** Writes through an out-pointer; false when it is null or not writable. */
export function* out(c: SyscallCtx, va: number, ws: readonly (bigint | number)[]): KPath<boolean> {
  if (va === 0) return false;
  try {
    yield* writeWords(c, va, ws);
    return true;
  } catch {
    return false;
  }
}

export const num = (w: bigint) => (w > BigInt(Number.MAX_SAFE_INTEGER) ? Number.NaN : Number(w));
export const u32 = (w: bigint) => Number(w & 0xffffffffn);
export const i32 = (w: bigint) => Number(BigInt.asIntN(32, w));

export type Handler = (c: SyscallCtx, pp: PortalsProcess, a: Words) => KPath<number>;

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
export const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
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
export function wordsFit(ws: Words, types: readonly WordType[]): boolean {
  for (let i = 0; i < types.length; i++) if (!fits(ws[i], types[i])) return false;
  return true;
}

export function niOf(pp: PortalsProcess, w: bigint): NetworkInterface | null {
  return pp.ni(u32(w));
}
