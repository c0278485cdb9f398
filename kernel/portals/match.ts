// Portals 4 matching, as the reference implementation's target side does
// it (check_match, check_perm, tgt_get_length): the match rule
// ((incoming ^ match_bits) & ~ignore_bits) == 0 with source matching, the
// uid and operation permission checks, and where a message lands in the
// entry and how much of it is taken (offset, truncation, locally managed
// offsets, use-once and min_free unlinking), and the walk of the priority
// then the overflow list. Pure functions over plain data,
// so the receive path and the property tests share them.

import { PTL, TYPE_SIZE } from './defs.ts';

export type PtlOp = 'put' | 'get' | 'atomic' | 'fetch' | 'swap';

/** What the target sees of an incoming request. */
export interface Incoming {
  readonly op: PtlOp;
  readonly matchBits: bigint;
  readonly rlength: number;
  readonly roffset: number;
  readonly uid: number;
  /** Physical initiator, or rank for logical NIs. */
  readonly nid: number;
  readonly pid: number;
  readonly rank: number;
  readonly atomicType: number;
  readonly swapOp: number;
}

/** A list entry (an ME, or an LE with no match or ignore bits). */
export interface Entry {
  readonly length: number;
  readonly options: number;
  readonly matchBits: bigint;
  readonly ignoreBits: bigint;
  readonly uid: number;
  /** Source to match: nid/pid (physical) or rank (logical); PTL_*_ANY matches all. */
  readonly matchNid: number;
  readonly matchPid: number;
  readonly matchRank: number;
  readonly minFree: number;
  /** Locally managed offset (PTL_ME_MANAGE_LOCAL). */
  offset: number;
}

export interface NiLimits {
  readonly maxMsgSize: number;
  readonly maxAtomicSize: number;
}

const MASK64 = (1n << 64n) - 1n;

/** The match rule, on 64-bit match bits. */
export function bitsMatch(incoming: bigint, matchBits: bigint, ignoreBits: bigint): boolean {
  return ((incoming ^ matchBits) & ~ignoreBits & MASK64) === 0n;
}

/** Whether a request matches an entry (source, truncation and bits; not permissions). */
export function matches(m: Incoming, e: Entry, logical: boolean, matching: boolean): boolean {
  if (logical) {
    if (e.matchRank !== PTL.RANK_ANY && e.matchRank !== m.rank) return false;
  } else {
    if (e.matchNid !== PTL.NID_ANY && e.matchNid !== m.nid) return false;
    if (e.matchPid !== PTL.PID_ANY && e.matchPid !== m.pid) return false;
  }
  const offset = e.options & PTL.ME_MANAGE_LOCAL ? e.offset : m.roffset;
  if (e.options & PTL.ME_NO_TRUNCATE && offset + m.rlength > e.length) return false;
  return !matching || bitsMatch(m.matchBits, e.matchBits, e.ignoreBits);
}

/** The ni_fail a matched request gets from the entry's uid and operation permissions. */
export function permission(m: Incoming, e: Entry): number {
  if (e.uid !== PTL.UID_ANY && e.uid !== m.uid) return PTL.NI_PERM_VIOLATION;
  switch (m.op) {
    case 'put':
    case 'atomic':
      return e.options & PTL.ME_OP_PUT ? PTL.NI_OK : PTL.NI_OP_VIOLATION;
    case 'get':
      return e.options & PTL.ME_OP_GET ? PTL.NI_OK : PTL.NI_OP_VIOLATION;
    case 'fetch':
    case 'swap':
      return (e.options & (PTL.ME_OP_PUT | PTL.ME_OP_GET)) === (PTL.ME_OP_PUT | PTL.ME_OP_GET) ? PTL.NI_OK : PTL.NI_OP_VIOLATION;
  }
}

export interface Placement {
  /** Offset in the entry where the data goes (or comes from). */
  readonly moffset: number;
  /** Bytes actually moved. */
  readonly mlength: number;
  /** The entry must be unlinked (use once, or locally managed space below min_free). */
  readonly unlink: boolean;
}

/**
 * Where a matched request lands and how much of it is taken, and whether
 * the entry is used up. Updates the entry's locally managed offset.
 */
export function place(m: Incoming, e: Entry, limits: NiLimits): Placement {
  const offset = e.options & PTL.ME_MANAGE_LOCAL ? e.offset : m.roffset;
  // A message that starts beyond the entry is truncated to nothing.
  let length = offset > e.length ? 0 : Math.min(e.length - offset, m.rlength);
  switch (m.op) {
    case 'put':
    case 'get':
      length = Math.min(length, limits.maxMsgSize);
      break;
    case 'atomic':
    case 'fetch':
      length = Math.min(length, limits.maxAtomicSize);
      break;
    case 'swap':
      length = Math.min(length, m.swapOp === PTL.SWAP ? limits.maxAtomicSize : TYPE_SIZE[m.atomicType] ?? 0);
      break;
  }
  if (e.options & PTL.ME_MANAGE_LOCAL) e.offset += length;
  const unlink = (e.options & PTL.ME_USE_ONCE) !== 0 || ((e.options & PTL.ME_MANAGE_LOCAL) !== 0 && e.minFree > 0 && e.length - e.offset < e.minFree);
  return { moffset: offset, mlength: length, unlink };
}

/** Where the walk found a request's entry: the entry (none: no match), its list, and how many entries it looked at. */
export interface Walk<E extends Entry> {
  readonly entry: E | undefined;
  readonly list: number;
  readonly steps: number;
}

/** The priority list first, then the overflow list: the first entry the request matches. */
export function walk<E extends Entry>(priority: readonly E[], overflow: readonly E[], m: Incoming, logical: boolean, matching: boolean): Walk<E> {
  let steps = 0;
  for (const e of priority) {
    steps++;
    if (matches(m, e, logical, matching)) return { entry: e, list: PTL.PRIORITY_LIST, steps };
  }
  for (const e of overflow) {
    steps++;
    if (matches(m, e, logical, matching)) return { entry: e, list: PTL.OVERFLOW_LIST, steps };
  }
  return { entry: undefined, list: PTL.OVERFLOW_LIST, steps };
}

/** Index of the first matching entry in a list, or -1. */
export function search(list: readonly Entry[], m: Incoming, logical: boolean, matching: boolean): number {
  for (let i = 0; i < list.length; i++) if (matches(m, list[i], logical, matching)) return i;
  return -1;
}
