// Portals objects of one process, kept in the kernel: network interfaces
// and their portal tables, memory descriptors, list entries, event queues
// and counting events. Handles are 32-bit numbers: object kind in the top
// nibble, NI in the next two bits, a slot below (the kinds avoid the
// nibbles of PTL_EQ_NONE and PTL_CT_NONE). Each NI keeps its objects in one
// handle table (handles.ts), which checks kind and owner on every lookup.

import { DEFAULT_LIMITS, type LimitName, PTL } from './defs.ts';
import type { Cpu } from '../cpu.ts';
import type { KPath } from '../step.ts';
import type { Piece } from './iov.ts';
import type { Pin } from '../pin.ts';
import type { AttachedExtension } from './extension.ts';
import type { Entry } from './match.ts';
import { HandleTable } from './handles.ts';
import type { Process } from '../process.ts';

const KIND = { ni: 0x1, eq: 0x2, ct: 0x4, md: 0x6, me: 0x7, le: 0x8 } as const;
export type Kind = keyof typeof KIND;

// Bits 26-27 hold the NI's kind and bit 25 its interface (0 or 1), so the
// handles of interface 0 keep the values they had with one interface.
export function makeHandle(kind: Kind, ni: number, slot: number): number {
  return ((KIND[kind] << 28) | ((ni & 3) << 26) | (((ni >> 2) & 1) << 25) | (slot & 0x1ffffff)) >>> 0;
}

export function handleKind(h: number): Kind | null {
  const k = (h >>> 28) & 0xf;
  for (const [name, v] of Object.entries(KIND)) if (v === k) return name as Kind;
  return null;
}

export function handleNi(h: number): number {
  return ((h >>> 26) & 3) | (((h >>> 25) & 1) << 2);
}

export function handleSlot(h: number): number {
  return h & 0x1ffffff;
}

export type Limits = Record<LimitName, number>;

/** One event, with the fields of ptl_event_t. */
export interface PtlEvent {
  type: number;
  start: number;
  userPtr: bigint;
  hdrData: bigint;
  matchBits: bigint;
  rlength: number;
  mlength: number;
  remoteOffset: number;
  uid: number;
  nid: number;
  pid: number;
  rank: number;
  ptIndex: number;
  niFail: number;
  atomicOp: number;
  atomicType: number;
  list: number;
}

export function blankEvent(type: number): PtlEvent {
  return { type, start: 0, userPtr: 0n, hdrData: 0n, matchBits: 0n, rlength: 0, mlength: 0, remoteOffset: 0, uid: 0, nid: 0, pid: 0, rank: 0, ptIndex: 0, niFail: PTL.NI_OK, atomicOp: 0, atomicType: 0, list: 0 };
}

export class EventQueue {
  readonly events: PtlEvent[] = [];
  dropped = false;
  constructor(
    readonly handle: number,
    readonly size: number,
  ) {}

  post(e: PtlEvent): void {
    if (this.events.length >= this.size) {
      this.dropped = true;
      return;
    }
    this.events.push(e);
  }
}

/** A triggered operation waiting on a counter's threshold. */
export interface Triggered {
  readonly threshold: number;
  readonly fire: (cpu: Cpu) => KPath;
  /** Releases what the operation holds if it is cancelled. */
  readonly cancel?: () => void;
  /** The NI whose descriptor the operation sends from (it may wait on another NI's counter). */
  readonly ni?: NetworkInterface;
}

export class Counter {
  success = 0;
  failure = 0;
  triggered: Triggered[] = [];
  constructor(readonly handle: number) {}

  /** Cancels the waiting operations `which` selects (all by default): none is sent, each releases what it holds. */
  cancelTriggered(which: (t: Triggered) => boolean = () => true): void {
    const gone = this.triggered.filter(which);
    this.triggered = this.triggered.filter((t) => !which(t));
    for (const t of gone) t.cancel?.();
  }
}

export interface MemoryDescriptor {
  readonly handle: number;
  readonly start: number;
  readonly length: number;
  readonly options: number;
  readonly eq: EventQueue | null;
  readonly ct: Counter | null;
  /** The physical memory behind the descriptor, `length` bytes in all. */
  readonly pieces: readonly Piece[];
  /** Keeps those frames from anyone else until the descriptor is released. */
  readonly pin: Pin;
  /** Replies may land in it: its owner could write all of it when it was bound, and has not mprotected any of it read-only since. */
  writable: boolean;
  /** Operations in flight that still reference it. */
  busy: number;
}

export interface ListEntry extends Entry {
  readonly handle: number;
  readonly kind: 'me' | 'le';
  readonly pt: PortalTableEntry;
  list: number;
  readonly start: number;
  /** The physical memory behind the entry, `length` bytes in all. */
  readonly pieces: readonly Piece[];
  /** Keeps those frames from anyone else until the entry is unlinked. */
  readonly pin: Pin;
  /** The NIC may write it (puts, atomics): it accepts puts, and its owner has not mprotected any of it read-only since. */
  writable: boolean;
  readonly ct: Counter | null;
  readonly userPtr: bigint;
  linked: boolean;
  /** An extension handler attached to this entry, run on every put that matches it. */
  ext: AttachedExtension | null;
}

/** A header that arrived on the overflow list, kept for searches. */
export interface Unexpected {
  readonly event: PtlEvent;
  readonly entry: ListEntry;
  readonly op: 'put' | 'get' | 'atomic' | 'fetch' | 'swap';
}

export class PortalTableEntry {
  enabled: boolean;
  readonly priority: ListEntry[] = [];
  readonly overflow: ListEntry[] = [];
  readonly unexpected: Unexpected[] = [];
  constructor(
    readonly index: number,
    readonly options: number,
    readonly eq: EventQueue | null,
  ) {
    this.enabled = (options & PTL.PT_ALLOC_DISABLED) === 0;
  }
}

/** The objects an NI's handle table holds, by handle kind. */
export interface PortalsObjects {
  eq: EventQueue;
  ct: Counter;
  md: MemoryDescriptor;
  me: ListEntry;
  le: ListEntry;
}
export type ObjectKind = keyof PortalsObjects;

export class NetworkInterface {
  readonly pts: (PortalTableEntry | null)[];
  /** Its event queues, counters, descriptors and list entries, by handle (slots numbered from 1 across all kinds). */
  readonly objects: HandleTable<PortalsObjects, Process>;
  readonly pid: number;
  /** PTL_SR_DROP_COUNT, PTL_SR_PERMISSION_VIOLATIONS, PTL_SR_OPERATION_VIOLATIONS */
  readonly status = [0, 0, 0];
  map: { nid: number; pid: number }[] | null = null;
  /** The map inverted, (nid, pid) -> rank: built on the first initiator not at the rank it claims (ranks.ts). */
  rankIndex: Map<number, number> | null = null;
  refs = 1;

  constructor(
    readonly index: number,
    readonly options: number,
    readonly limits: Limits,
    readonly owner: Process,
  ) {
    this.pts = new Array(limits.max_pt_index + 1).fill(null);
    this.pid = owner.pid;
    this.objects = new HandleTable((kind, slot) => makeHandle(kind, index, slot));
  }

  get matching(): boolean {
    return (this.options & PTL.NI_MATCHING) !== 0;
  }

  get logical(): boolean {
    return (this.options & PTL.NI_LOGICAL) !== 0;
  }

  get handle(): number {
    return makeHandle('ni', this.index, 0);
  }

  /** An EQ of this NI named in an argument: null for PTL_EQ_NONE, undefined if the handle names none. */
  eqByHandle(h: number): EventQueue | null | undefined {
    if (h === PTL.EQ_NONE) return null;
    return this.objects.get(h, 'eq', this.owner);
  }

  /** A counter of this NI named in an argument: null for PTL_CT_NONE, undefined if the handle names none. */
  ctByHandle(h: number): Counter | null | undefined {
    if (h === PTL.CT_NONE) return null;
    return this.objects.get(h, 'ct', this.owner);
  }
}

/** Desired limits clamped as the reference's chk_param does. */
const LIMIT_RANGE: Record<LimitName, [number, number]> = {
  max_entries: [0, 128 * 2 ** 20],
  max_unexpected_headers: [0, Number.MAX_SAFE_INTEGER],
  max_mds: [0, 128 * 2 ** 20],
  max_cts: [0, 128 * 2 ** 20],
  max_eqs: [0, 128 * 2 ** 20],
  max_pt_index: [1, 511],
  max_iovecs: [0, Number.MAX_SAFE_INTEGER],
  max_list_size: [0, 4 * 2 ** 30],
  max_triggered_ops: [0, 4 * 2 ** 30],
  max_msg_size: [0, 4 * 2 ** 30],
  max_atomic_size: [0, 512],
  max_fetch_atomic_size: [8, 512],
  max_waw_ordered_size: [8, Number.MAX_SAFE_INTEGER],
  max_war_ordered_size: [8, Number.MAX_SAFE_INTEGER],
  max_volatile_size: [0, Number.MAX_SAFE_INTEGER],
  features: [0, 7],
};

export function clampLimits(desired: Partial<Limits> | null): Limits {
  const out = { ...DEFAULT_LIMITS } as Limits;
  if (desired === null) return out;
  for (const k of Object.keys(LIMIT_RANGE) as LimitName[]) {
    const v = desired[k] ?? 0;
    const [lo, hi] = LIMIT_RANGE[k];
    out[k] = v < lo ? lo : v > hi ? hi : v;
  }
  return out;
}
