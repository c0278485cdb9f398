// The Portals driver of one node's kernel: every process's Portals state,
// the send path (validate, build the header, ring the NIC), and the receive
// path in the NIC interrupt handlers (match in the interrupt path, as
// Catamount's generic mode does; tell the NIC where to deposit; post events
// and counters; send acks and replies). Each piece of work is a traced step
// with a profile cost.

import { KMSG_COOKIE_BASE } from '../jobctl.ts';
import { DSM_COOKIE_BASE } from '../dsm/node.ts';
import { isDsmMessage } from '../dsm/wire.ts';
import { isKernelMessage } from '../jobmsg.ts';
import type { NicCompletion } from '../../hw/nic.ts';
import { type Cpu } from '../cpu.ts';
import type { Kernel } from '../kernel.ts';
import type { Process, Thread } from '../process.ts';
import { type KPath, step } from '../step.ts';
import { applyAtomic, usesOperand, validAtomic } from './atomics.ts';
import { PTL, TYPE_SIZE } from './defs.ts';
import { type Incoming, type PtlOp, matches, permission, place } from './match.ts';
import {
  Counter,
  EventQueue,
  type Limits,
  type ListEntry,
  type MemoryDescriptor,
  NetworkInterface,
  PortalTableEntry,
  type PtlEvent,
  type Unexpected,
  blankEvent,
  clampLimits,
  handleKind,
  handleNi,
} from './objects.ts';
import { type AttachedExtension, runExtension } from './extension.ts';
import { type Piece, StagingRing, gather, scatter, slice, total } from './iov.ts';
import { Pin } from './pin.ts';
import { type Header, MSG, decodeHeader, emptyHeader, encodeHeader } from './wire.ts';
import { peekUser } from '../uaccess.ts';

/** The node's NIC offers two interfaces (0, the default, and 1: a runtime's out-of-band channel). */
export const IFACES = 2;

/** The four NI kinds of a process on each interface, by index. */
export function niIndex(options: number, iface = 0): number {
  return ((options & PTL.NI_NO_MATCHING) !== 0 ? 1 : 0) | ((options & PTL.NI_LOGICAL) !== 0 ? 2 : 0) | (iface << 2);
}

/** Portals state of one process. */
export class PortalsProcess {
  initCount = 0;
  readonly nis: (NetworkInterface | null)[] = new Array(4 * IFACES).fill(null);
  /** Threads blocked in EQ/CT waits. */
  readonly waiters = new Set<Thread>();
  constructor(readonly process: Process) {}

  ni(handle: number): NetworkInterface | null {
    if (handleKind(handle) !== 'ni') return null;
    const ni = this.nis[handleNi(handle)];
    return ni !== null && ni.handle === handle ? ni : null;
  }

  /** The NI an object handle belongs to, if the handle is live. */
  owner(handle: number): NetworkInterface | null {
    const kind = handleKind(handle);
    if (kind === null) return null;
    return this.nis[handleNi(handle)] ?? null;
  }
}

export interface TargetId {
  readonly nid: number;
  readonly pid: number;
  readonly rank: number;
}

export interface SendArgs {
  readonly op: PtlOp;
  readonly putMd: number | null;
  readonly putOffset: number;
  readonly getMd: number | null;
  readonly getOffset: number;
  readonly length: number;
  readonly ackReq: number;
  readonly target: TargetId;
  readonly ptIndex: number;
  readonly matchBits: bigint;
  readonly remoteOffset: number;
  readonly userPtr: bigint;
  readonly hdrData: bigint;
  readonly atomOp: number;
  readonly atomType: number;
  readonly operand: Uint8Array;
}

interface Pending {
  readonly args: SendArgs;
  readonly ni: NetworkInterface;
  readonly pp: PortalsProcess;
  readonly putMd: MemoryDescriptor | null;
  readonly getMd: MemoryDescriptor | null;
  /** What the operation holds until it is finished: pins on the MD memory it moves, its staging slot. */
  readonly release: () => void;
  /** The data has left the MD (the SEND event is posted). */
  sent?: boolean;
  /** An ack that arrived before the last byte left (a target drops on the header): handled once sent. */
  earlyAck?: Header;
}

/** What to do when a receive DMA completes. */
type RxDone = (cpu: Cpu) => KPath;

/** `f` made safe to call more than once (it runs the first time only). */
function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    f();
  };
}

/** Valid option bits of an LE (up to CT_BYTES) and of an ME (up to LOCAL_INC_UH_RLENGTH). */
const LE_OPTIONS_MASK = (1 << 15) - 1;
const ME_OPTIONS_MASK = (1 << 19) - 1;

/** Kernel memory for staging non-contiguous transfers and atomic operands. */
const STAGING_BASE = 1 * 1024 * 1024;
const STAGING_BYTES = 12 * 1024 * 1024;
/** Cookies of kernel-sent messages that hold memory until sent (below the job-control cookies). */
const HOLD_COOKIE_BASE = 2 ** 39;

export class PortalsDriver {
  private readonly procs = new Map<number, PortalsProcess>();
  private readonly pending = new Map<number, Pending>();
  private readonly rxDone = new Map<number, RxDone>();
  /** What a receive in flight holds, released if its DMA fails (on success its completion releases it). */
  private readonly rxHolds = new Map<number, () => void>();
  /** NIC completions taken but not yet handled. */
  private readonly completionQueue: NicCompletion[] = [];
  /** What a transmit the kernel sent holds (a staging slot, pins on the memory it reads), by cookie. */
  private readonly txHolds = new Map<number, () => void>();
  private nextOp = 1;
  private nextHold = HOLD_COOKIE_BASE;
  private readonly staging: StagingRing;

  constructor(readonly k: Kernel) {
    const reserved = Math.min(16 * 1024 * 1024, k.node.memory.size / 8);
    this.staging = new StagingRing(Math.min(STAGING_BASE, reserved / 4), Math.min(STAGING_BYTES, reserved / 2));
  }

  /** Registers the NIC interrupt handlers (the Portals driver replaces the default drop). */
  attach(): void {
    const self = this;
    this.k.requestIrq('nic-rx', function* (_k, cpu) {
      yield* self.receive(cpu);
    });
    this.k.requestIrq('nic-completion', function* (_k, cpu) {
      yield* self.completions(cpu);
    });
  }

  state(p: Process): PortalsProcess {
    let s = this.procs.get(p.pid);
    if (s === undefined) {
      s = new PortalsProcess(p);
      this.procs.set(p.pid, s);
    }
    return s;
  }

  /** A process's Portals state if it has any (inspection; creates nothing). */
  peek(p: Process): PortalsProcess | undefined {
    const s = this.procs.get(p.pid);
    return s?.process === p ? s : undefined;
  }

  /** Drops a process's Portals state when it exits, and the pins its objects hold. */
  forget(p: Process): void {
    const pp = this.procs.get(p.pid);
    if (pp?.process === p) for (const ni of pp.nis) if (ni !== null) this.dropObjects(pp, ni);
    this.procs.delete(p.pid);
  }

  /**
   * An NI goes away: the triggered operations waiting on its counters or
   * sending from its descriptors are cancelled (nothing is sent, their pins
   * and pending entries go), and its descriptors and entries (and their
   * handlers' grants) stop holding memory.
   */
  private dropObjects(pp: PortalsProcess, ni: NetworkInterface): void {
    for (const other of pp.nis) if (other !== null) for (const ct of other.cts.values()) ct.cancelTriggered((t) => other === ni || t.ni === ni);
    for (const md of ni.mds.values()) md.pin.release();
    for (const e of ni.entries.values()) {
      e.pin.release();
      e.ext?.grantPin.release();
    }
  }

  /** Pins the memory of `pieces` for an operation in flight. */
  private pin(pieces: readonly Piece[]): Pin {
    return Pin.of(this.k.phys, pieces);
  }

  /** Bytes of kernel staging owned by transfers in flight. */
  get stagingBusy(): number {
    return this.staging.busyBytes;
  }

  private get v() {
    return this.k.profile.values;
  }

  /**
   * A physical source for sending [off, off+len) of `pieces`: direct when
   * contiguous, else gathered into a staging slot (`slot`, -1 for none, to
   * release once the NIC has read it). Null when staging is full.
   */
  private txSource(pieces: readonly Piece[], off: number, len: number): { pa: number; slot: number } | null {
    if (len === 0) return { pa: 0, slot: -1 };
    const part = slice(pieces, off, len);
    if (part.length === 1) return { pa: part[0].pa, slot: -1 };
    const at = this.staging.take(len);
    if (at < 0) return null;
    this.k.node.memory.write(at, gather(this.k.node.memory, part));
    return { pa: at, slot: at };
  }

  /**
   * Where to deposit [off, off+len) of `pieces`, what to do once the DMA is
   * done, and the staging slot used (-1 for none). Null when staging is full.
   */
  private rxTarget(pieces: readonly Piece[], off: number, len: number): { pa: number; after: (() => void) | null; slot: number } | null {
    const part = slice(pieces, off, len);
    if (part.length <= 1) return { pa: part[0]?.pa ?? 0, after: null, slot: -1 };
    const at = this.staging.take(len);
    if (at < 0) return null;
    const mem = this.k.node.memory;
    return {
      pa: at,
      slot: at,
      after: () => {
        const data = new Uint8Array(len);
        mem.read(at, data);
        scatter(mem, part, data);
      },
    };
  }

  /** Gives a staging slot back (-1: none was taken). */
  private unstage(slot: number): void {
    if (slot >= 0) this.staging.release(slot);
  }

  // ---- NI and objects -------------------------------------------------------

  niInit(pp: PortalsProcess, options: number, desired: Partial<Limits> | null, iface = 0): { rc: number; ni?: NetworkInterface } {
    if (pp.initCount === 0) return { rc: PTL.NO_INIT };
    const m = options & (PTL.NI_MATCHING | PTL.NI_NO_MATCHING);
    const l = options & (PTL.NI_LOGICAL | PTL.NI_PHYSICAL);
    if ((m !== PTL.NI_MATCHING && m !== PTL.NI_NO_MATCHING) || (l !== PTL.NI_LOGICAL && l !== PTL.NI_PHYSICAL) || options & ~15) return { rc: PTL.ARG_INVALID };
    const idx = niIndex(options, iface);
    const existing = pp.nis[idx];
    if (existing !== null) {
      existing.refs++;
      return { rc: PTL.OK, ni: existing };
    }
    const ni = new NetworkInterface(idx, options, clampLimits(desired), pp.process.pid);
    pp.nis[idx] = ni;
    return { rc: PTL.OK, ni };
  }

  niFini(pp: PortalsProcess, handle: number): number {
    const ni = pp.ni(handle);
    if (ni === null) return PTL.ARG_INVALID;
    if (--ni.refs === 0) {
      this.dropObjects(pp, ni);
      pp.nis[ni.index] = null;
    }
    return PTL.OK;
  }

  ptAlloc(ni: NetworkInterface, options: number, eqHandle: number, index: number): { rc: number; index?: number } {
    if (options & ~31) return { rc: PTL.ARG_INVALID };
    const eq = ni.eqByHandle(eqHandle);
    if (eq === undefined) return { rc: PTL.ARG_INVALID };
    if (options & PTL.PT_FLOWCTRL && eq === null) return { rc: PTL.PT_EQ_NEEDED };
    let i = index;
    if (index === PTL.PT_ANY) {
      i = ni.pts.findIndex((p) => p === null);
      if (i < 0) return { rc: PTL.PT_FULL };
    } else if (!(index >= 0 && index < ni.pts.length)) return { rc: PTL.ARG_INVALID };
    else if (ni.pts[i] !== null) return { rc: PTL.PT_IN_USE };
    ni.pts[i] = new PortalTableEntry(i, options, eq);
    return { rc: PTL.OK, index: i };
  }

  ptFree(ni: NetworkInterface, index: number): number {
    const pt = ni.pts[index];
    if (!(index >= 0 && index < ni.pts.length) || pt === null || pt === undefined) return PTL.ARG_INVALID;
    if (pt.priority.length > 0 || pt.overflow.length > 0) return PTL.PT_IN_USE;
    ni.pts[index] = null;
    return PTL.OK;
  }

  ptEnable(ni: NetworkInterface, index: number, on: boolean): number {
    const pt = ni.pts[index];
    if (!(index >= 0 && index < ni.pts.length) || !pt) return PTL.ARG_INVALID;
    pt.enabled = on;
    return PTL.OK;
  }

  eqAlloc(ni: NetworkInterface, count: number): { rc: number; eq?: EventQueue } {
    if (!(count > 0) || ni.eqs.size >= ni.limits.max_eqs) return { rc: count > 0 ? PTL.NO_SPACE : PTL.ARG_INVALID };
    const eq = new EventQueue(ni.newHandle('eq'), count);
    ni.eqs.set(eq.handle, eq);
    return { rc: PTL.OK, eq };
  }

  /** Frees an EQ; threads waiting on it wake and see PTL_INTERRUPTED. */
  *eqFree(pp: PortalsProcess, h: number, cpu: Cpu): KPath<number> {
    const ni = pp.owner(h);
    if (ni === null || handleKind(h) !== 'eq' || !ni.eqs.has(h)) return PTL.ARG_INVALID;
    ni.eqs.delete(h);
    yield* this.wakeWaiters(pp, cpu);
    return PTL.OK;
  }

  findEq(pp: PortalsProcess, h: number): EventQueue | null {
    const ni = pp.owner(h);
    return ni !== null && handleKind(h) === 'eq' ? (ni.eqs.get(h) ?? null) : null;
  }

  findCt(pp: PortalsProcess, h: number): Counter | null {
    const ni = pp.owner(h);
    return ni !== null && handleKind(h) === 'ct' ? (ni.cts.get(h) ?? null) : null;
  }

  ctAlloc(ni: NetworkInterface): { rc: number; ct?: Counter } {
    if (ni.cts.size >= ni.limits.max_cts) return { rc: PTL.NO_SPACE };
    const ct = new Counter(ni.newHandle('ct'));
    ni.cts.set(ct.handle, ct);
    return { rc: PTL.OK, ct };
  }

  /** Frees a counter, cancelling the triggered operations waiting on it; threads waiting on it wake and see PTL_INTERRUPTED. */
  *ctFree(pp: PortalsProcess, h: number, cpu: Cpu): KPath<number> {
    const ni = pp.owner(h);
    const ct = ni !== null && handleKind(h) === 'ct' ? ni.cts.get(h) : undefined;
    if (ni === null || ct === undefined) return PTL.ARG_INVALID;
    ct.cancelTriggered();
    ni.cts.delete(h);
    yield* this.wakeWaiters(pp, cpu);
    return PTL.OK;
  }

  /** Adds to a counter and fires triggered operations whose threshold is reached. */
  *ctAdd(pp: PortalsProcess, ct: Counter, success: number, failure: number, cpu: Cpu, set = false): KPath {
    if (set) {
      ct.success = success;
      ct.failure = failure;
    } else {
      ct.success += success;
      ct.failure += failure;
    }
    const reached = ct.triggered.filter((t) => ct.success + ct.failure >= t.threshold);
    ct.triggered = ct.triggered.filter((t) => ct.success + ct.failure < t.threshold);
    for (const t of reached) yield* t.fire(cpu);
    yield* this.wakeWaiters(pp, cpu);
  }

  mdBind(pp: PortalsProcess, ni: NetworkInterface, start: number, length: number, options: number, eqH: number, ctH: number): { rc: number; md?: MemoryDescriptor } {
    const eq = ni.eqByHandle(eqH);
    const ct = ni.ctByHandle(ctH);
    if (eq === undefined || ct === undefined || options & ~1023) return { rc: PTL.ARG_INVALID };
    if (ni.mds.size >= ni.limits.max_mds) return { rc: PTL.NO_SPACE };
    const pieces = this.memoryOf(pp.process, ni, start, length, (options & PTL.IOVEC) !== 0);
    if (pieces === null) return { rc: PTL.ARG_INVALID };
    // A descriptor over read-only memory can be sent from; gets, fetches and swaps into it are refused.
    const writable = this.memoryOf(pp.process, ni, start, length, (options & PTL.IOVEC) !== 0, true) !== null;
    const md: MemoryDescriptor = { handle: ni.newHandle('md'), start, length: total(pieces), options, eq, ct, pieces, pin: this.pin(pieces), writable, busy: 0 };
    ni.mds.set(md.handle, md);
    return { rc: PTL.OK, md };
  }

  mdRelease(pp: PortalsProcess, h: number): number {
    const ni = pp.owner(h);
    const md = ni !== null && handleKind(h) === 'md' ? ni.mds.get(h) : undefined;
    if (ni === null || md === undefined) return PTL.ARG_INVALID;
    if (md.busy > 0) return PTL.IN_USE;
    ni.mds.delete(h);
    md.pin.release();
    return PTL.OK;
  }

  /**
   * The physical pieces of a user range (one per region it crosses), or null
   * if any byte is unmapped, or (with `write`) not writable by its owner.
   */
  physical(p: Process, start: number, length: number, write = false): Piece[] | null {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0) return null;
    const out: Piece[] = [];
    for (let at = start; at < start + length; ) {
      const r = p.aspace.find(at);
      if (r === undefined || !r.readable || (write && !r.writable)) return null;
      const n = Math.min(r.start + r.size, start + length) - at;
      out.push({ pa: r.pa + (at - r.start), len: n, base: r.extent.base });
      at += n;
    }
    return out;
  }

  /**
   * The owner takes write permission away from [start, start+length) (mprotect):
   * so does the NIC. Entries, descriptors and grants over any of that memory
   * stop being written (puts and atomics refused, replies refused at the call,
   * a handler's grant read-only), until they are made again. Operations
   * already matched finish. Called once the regions have their new permissions (their frames are the same).
   */
  revokeWrite(p: Process, start: number, length: number): void {
    const pp = this.peek(p);
    if (pp === undefined) return;
    const ranges: { pa: number; len: number }[] = [];
    for (const r of p.aspace.view()) {
      const lo = Math.max(r.start, start);
      const hi = Math.min(r.end, start + length);
      if (lo < hi) ranges.push({ pa: r.pa + (lo - r.start), len: hi - lo });
    }
    const hit = (pieces: readonly Piece[]) => pieces.some((x) => ranges.some((y) => x.pa < y.pa + y.len && y.pa < x.pa + x.len));
    for (const ni of pp.nis) {
      if (ni === null) continue;
      for (const md of ni.mds.values()) if (md.writable && hit(md.pieces)) md.writable = false;
      for (const e of ni.entries.values()) {
        if (e.writable && hit(e.pieces)) e.writable = false;
        if (e.ext !== null && e.ext.grantWritable && hit(e.ext.grant)) e.ext.grantWritable = false;
      }
    }
  }

  /** A buffer's pieces: the range itself, or (PTL_IOVEC) the list of `count` {base, length} pairs at `start`. */
  private memoryOf(p: Process, ni: NetworkInterface, start: number, length: number, iovec: boolean, write = false): Piece[] | null {
    if (!iovec) return this.physical(p, start, length, write);
    if (!Number.isSafeInteger(length) || length < 0 || length > ni.limits.max_iovecs) return null;
    let words: Uint8Array;
    try {
      words = peekUser(this.k, p, start, 16 * length);
    } catch {
      return null;
    }
    const dv = new DataView(words.buffer);
    const out: Piece[] = [];
    for (let i = 0; i < length; i++) {
      const part = this.physical(p, Number(dv.getBigUint64(16 * i, true)), Number(dv.getBigUint64(16 * i + 8, true)), write);
      if (part === null) return null;
      out.push(...part);
    }
    return out;
  }

  append(pp: PortalsProcess, ni: NetworkInterface, ptIndex: number, kind: 'me' | 'le', d: EntryDesc, list: number, userPtr: bigint, cpu: Cpu): { rc: number; entry?: ListEntry; work?: KPath } {
    const pt = ni.pts[ptIndex];
    if (!(ptIndex >= 0 && ptIndex < ni.pts.length) || !pt) return { rc: PTL.ARG_INVALID };
    if ((kind === 'me') !== ni.matching) return { rc: PTL.ARG_INVALID };
    if (list !== PTL.PRIORITY_LIST && list !== PTL.OVERFLOW_LIST) return { rc: PTL.ARG_INVALID };
    if (d.options & ~(kind === 'me' ? ME_OPTIONS_MASK : LE_OPTIONS_MASK)) return { rc: PTL.ARG_INVALID };
    const ct = ni.ctByHandle(d.ct);
    if (ct === undefined) return { rc: PTL.ARG_INVALID };
    if (ni.entries.size >= ni.limits.max_entries) return { rc: PTL.NO_SPACE };
    if (pt.priority.length + pt.overflow.length >= ni.limits.max_list_size) return { rc: PTL.NO_SPACE };
    // An entry the NIC may write (puts, atomics) must lie in memory its owner can write, as RDMA
    // stacks refuse to register read-only memory for remote write; one that only serves gets need not.
    const nicWrites = (d.options & PTL.ME_OP_PUT) !== 0;
    const pieces = this.memoryOf(pp.process, ni, d.start, d.length, (d.options & PTL.IOVEC) !== 0, nicWrites);
    if (pieces === null) return { rc: PTL.ARG_INVALID };
    const entry: ListEntry = {
      handle: ni.newHandle(kind),
      kind,
      pt,
      list,
      start: d.start,
      length: total(pieces),
      pieces,
      pin: this.pin(pieces),
      writable: nicWrites,
      options: d.options,
      matchBits: kind === 'me' ? d.matchBits : 0n,
      ignoreBits: kind === 'me' ? d.ignoreBits : 0n,
      uid: d.uid,
      matchNid: d.matchNid,
      matchPid: d.matchPid,
      matchRank: d.matchRank,
      minFree: kind === 'me' ? d.minFree : 0,
      offset: 0,
      ct,
      userPtr,
      linked: true,
      ext: null,
    };
    // An entry appended to the priority list first takes the unexpected headers it matches, oldest
    // first (a use-once entry only the first, and is then used up without being linked).
    const taken: Unexpected[] = [];
    if (list === PTL.PRIORITY_LIST) {
      for (const u of pt.unexpected) {
        const ev = u.event;
        if (!matches({ op: u.op, matchBits: ev.matchBits, rlength: ev.rlength, roffset: ev.remoteOffset, uid: ev.uid, nid: ev.nid, pid: ev.pid, rank: ev.rank, atomicType: ev.atomicType, swapOp: ev.atomicOp }, entry, ni.logical, ni.matching)) continue;
        taken.push(u);
        if (d.options & PTL.ME_USE_ONCE) break;
      }
      for (const u of taken) pt.unexpected.splice(pt.unexpected.indexOf(u), 1);
    }
    const usedUp = taken.length > 0 && (d.options & PTL.ME_USE_ONCE) !== 0;
    if (!usedUp) {
      ni.entries.set(entry.handle, entry);
      (list === PTL.PRIORITY_LIST ? pt.priority : pt.overflow).push(entry);
    } else entry.linked = false;
    const self = this;
    const work = (function* (): KPath {
      yield step('portals', 'append', self.v['kernel.portalsMatchCycles'], `${kind} on pt ${ptIndex} ${list === 0 ? 'priority' : 'overflow'}${taken.length ? `, ${taken.length} unexpected header(s)` : ''}`);
      yield* self.overflowEvents(pp, pt, taken, d.options, ct, userPtr, cpu);
      if (usedUp) {
        if (pt.eq && !(d.options & PTL.ME_EVENT_UNLINK_DISABLE)) {
          const u = blankEvent(PTL.EVENT_AUTO_UNLINK);
          u.userPtr = userPtr;
          u.ptIndex = ptIndex;
          yield* self.post(pp, pt.eq, u, cpu);
        }
        return;
      }
      if (pt.eq && !(d.options & PTL.ME_EVENT_LINK_DISABLE)) {
        const ev = blankEvent(PTL.EVENT_LINK);
        ev.userPtr = userPtr;
        ev.ptIndex = ptIndex;
        yield* self.post(pp, pt.eq, ev, cpu);
      }
    })();
    return { rc: PTL.OK, entry, work };
  }

  unlink(pp: PortalsProcess, h: number): number {
    const ni = pp.owner(h);
    const kind = handleKind(h);
    const e = ni !== null && (kind === 'me' || kind === 'le') ? ni.entries.get(h) : undefined;
    if (ni === null || e === undefined) return PTL.ARG_INVALID;
    this.remove(ni, e);
    return PTL.OK;
  }

  private remove(ni: NetworkInterface, e: ListEntry): void {
    e.linked = false;
    ni.entries.delete(e.handle);
    // Operations already matched hold their own pins; the entry's go now.
    e.pin.release();
    e.ext?.grantPin.release();
    for (const l of [e.pt.priority, e.pt.overflow]) {
      const i = l.indexOf(e);
      if (i >= 0) l.splice(i, 1);
    }
  }

  // ---- events and waiting ---------------------------------------------------

  *post(pp: PortalsProcess, eq: EventQueue, ev: PtlEvent, cpu: Cpu): KPath {
    eq.post(ev);
    yield step('portals', 'event', this.v['kernel.portalsEventCycles'], `${EVENT_NAMES[ev.type] ?? ev.type}${ev.niFail ? ` ni_fail ${ev.niFail}` : ''}`);
    yield* this.wakeWaiters(pp, cpu);
  }

  private *wakeWaiters(pp: PortalsProcess, cpu: Cpu): KPath {
    const ws = [...pp.waiters];
    pp.waiters.clear();
    for (const t of ws) yield* this.k.wake(t, 'portals', cpu);
  }

  // ---- initiator ------------------------------------------------------------

  /** Resolves a target to (nid, pid), validating it for the NI. */
  resolve(ni: NetworkInterface, t: TargetId): { nid: number; pid: number } | null {
    if (ni.logical) {
      const map = ni.map;
      if (map === null || !(t.rank >= 0 && t.rank < map.length)) return null;
      return map[t.rank];
    }
    if (!(t.nid >= 0 && t.nid < this.k.host.nodeCount)) return null;
    return { nid: t.nid, pid: t.pid };
  }

  /** Validates and sends a put, get, atomic, fetch-atomic or swap. Returns a PTL code. */
  send(pp: PortalsProcess, a: SendArgs, triggered = false): { rc: number; work?: KPath; fire?: (cpu: Cpu) => KPath; opId?: number; ni?: NetworkInterface } {
    const mdOf = (h: number | null) => {
      if (h === null) return null;
      const ni = pp.owner(h);
      return ni !== null && handleKind(h) === 'md' ? (ni.mds.get(h) ?? undefined) : undefined;
    };
    const putMd = mdOf(a.putMd);
    const getMd = mdOf(a.getMd);
    if (putMd === undefined || getMd === undefined) return { rc: PTL.ARG_INVALID };
    const md = putMd ?? getMd!;
    const ni = pp.owner(md.handle)!;
    if (putMd && getMd && pp.owner(getMd.handle) !== ni) return { rc: PTL.ARG_INVALID };
    const limits = ni.limits;
    if (!Number.isSafeInteger(a.length) || a.length < 0) return { rc: PTL.ARG_INVALID };
    if (putMd && (a.putOffset < 0 || a.putOffset + a.length > putMd.length)) return { rc: PTL.ARG_INVALID };
    if (getMd && (a.getOffset < 0 || a.getOffset + a.length > getMd.length)) return { rc: PTL.ARG_INVALID };
    if (getMd && !getMd.writable) return { rc: PTL.ARG_INVALID };
    // The reference's check_put/get/atomic/swap, in its order.
    if (a.length > limits.max_msg_size) return { rc: PTL.ARG_INVALID };
    if (a.op === 'atomic' || a.op === 'fetch' || a.op === 'swap') {
      if (a.length > limits.max_atomic_size) return { rc: PTL.ARG_INVALID };
      if (!validAtomic(a.atomOp, a.atomType, a.op === 'swap')) return { rc: PTL.ARG_INVALID };
      if (a.op === 'swap' && usesOperand(a.atomOp) && a.length > TYPE_SIZE[a.atomType]) return { rc: PTL.ARG_INVALID };
    }
    if (a.ackReq < 0 || a.ackReq > PTL.OC_ACK_REQ) return { rc: PTL.ARG_INVALID };
    if ((a.op === 'put' || a.op === 'atomic') && putMd) {
      if (a.ackReq === PTL.ACK_REQ && putMd.eq === null) return { rc: PTL.ARG_INVALID };
      if (a.ackReq === PTL.CT_ACK_REQ && putMd.ct === null) return { rc: PTL.ARG_INVALID };
      if (putMd.options & PTL.MD_VOLATILE && a.length > limits.max_volatile_size) return { rc: PTL.ARG_INVALID };
    }
    if (!(a.ptIndex >= 0 && a.ptIndex <= limits.max_pt_index)) return { rc: PTL.ARG_INVALID };
    const dst = this.resolve(ni, a.target);
    if (dst === null) return { rc: PTL.ARG_INVALID };
    const opId = this.nextOp++;
    // The operation pins the MD memory it reads or a reply will land in, until it is finished.
    const hold = this.pin([...(putMd ? slice(putMd.pieces, a.putOffset, a.length) : []), ...(getMd ? slice(getMd.pieces, a.getOffset, a.length) : [])]);
    let slot = -1;
    const pend: Pending = {
      args: a,
      ni,
      pp,
      putMd,
      getMd,
      release: () => {
        hold.release();
        this.unstage(slot);
        slot = -1;
      },
    };
    this.pending.set(opId, pend);
    if (putMd) putMd.busy++;
    if (getMd) getMd.busy++;
    const h = emptyHeader(MSG[a.op]);
    h.ni = ni.index;
    h.dstPid = dst.pid;
    h.srcNid = this.k.nid;
    h.srcPid = ni.pid;
    h.srcRank = pp.process.info.rank;
    h.uid = pp.process.info.uid;
    h.ptIndex = a.ptIndex;
    h.matchBits = a.matchBits;
    h.roffset = a.remoteOffset;
    h.rlength = a.length;
    h.hdrData = a.hdrData;
    h.ackReq = a.ackReq;
    h.atomOp = a.atomOp;
    h.atomType = a.atomType;
    h.opId = opId;
    h.operand = a.operand;
    const payloadLen = a.op === 'get' ? 0 : a.length;
    // The payload source: a non-contiguous MD is gathered into staging here.
    const source = () => (a.op === 'get' ? { pa: 0, slot: -1 } : this.txSource(putMd!.pieces, a.putOffset, a.length));
    const self = this;
    const transmit = (pa: number) => self.k.node.nic.transmit({ dst: dst.nid, header: encodeHeader(h), payloadAddr: pa, payloadLen, cookie: opId });
    const label = `${a.op} ${a.length} B -> ${dst.nid}:${dst.pid} pt ${a.ptIndex}`;
    if (triggered) {
      // A triggered operation sends the MD as it is when the counter fires: it
      // gathers (and takes its staging slot) then, not at registration.
      const fire = function* (cpu: Cpu): KPath {
        yield step('portals', 'trig-send', self.v['kernel.portalsSetupCycles'], label);
        const src = source();
        if (src === null) {
          // As PtlPut would return PTL_NO_SPACE: nothing is sent; the failure
          // reaches the initiator as a failed operation (event, counter).
          yield step('portals', 'drop', 50, `no staging for triggered ${a.op} of ${a.length} B`);
          yield* self.failed(opId, cpu);
          return;
        }
        slot = src.slot;
        transmit(src.pa);
      };
      return { rc: PTL.OK, fire, opId, ni };
    }
    const src = source();
    if (src === null) {
      this.finish(opId);
      return { rc: PTL.NO_SPACE };
    }
    slot = src.slot;
    const work = (function* (): KPath {
      yield step('portals', 'send', self.v['kernel.portalsSetupCycles'], label);
      transmit(src.pa);
    })();
    return { rc: PTL.OK, work, opId };
  }

  /**
   * A put sent by the kernel on a process's behalf (an extension forwarding
   * or replying): no descriptor, no events at the sender.
   */
  sendFromKernel(pp: PortalsProcess, ni: NetworkInterface, t: TargetId, ptIndex: number, matchBits: bigint, data: Uint8Array, direct = false): boolean {
    const dst = direct ? { nid: t.nid, pid: t.pid } : this.resolve(ni, t);
    if (dst === null) return false;
    const at = data.length > 0 ? this.staging.take(data.length) : 0;
    if (at < 0) return false;
    if (data.length > 0) this.k.node.memory.write(at, data);
    // The slot is the NIC's until the transmit completes.
    const cookie = data.length > 0 ? this.nextHold++ : 0;
    if (data.length > 0) this.txHolds.set(cookie, () => this.staging.release(at));
    const h = emptyHeader(MSG.put);
    h.ni = ni.index;
    h.dstPid = dst.pid;
    h.srcNid = this.k.nid;
    h.srcPid = ni.pid;
    h.srcRank = pp.process.info.rank;
    h.uid = pp.process.info.uid;
    h.ptIndex = ptIndex;
    h.matchBits = matchBits;
    h.rlength = data.length;
    this.k.node.nic.transmit({ dst: dst.nid, header: encodeHeader(h), payloadAddr: at, payloadLen: data.length, cookie });
    return true;
  }

  /** The extensions attached by each process, by id. */
  readonly extensions = new Map<number, AttachedExtension>();
  private nextExt = 1;

  newExtensionId(): number {
    return this.nextExt++;
  }

  /** Registers a triggered operation on a counter (run at once if the threshold is already met). */
  *trigger(ct: Counter, threshold: number, fire: (cpu: Cpu) => KPath, cpu: Cpu, cancel?: () => void, ni?: NetworkInterface): KPath {
    if (ct.success + ct.failure >= threshold) yield* fire(cpu);
    else ct.triggered.push({ threshold, fire, cancel, ni });
  }

  /** Runs `then` when the receive DMA of `rxId` completes (used by the job-control messages). */
  expectRx(rxId: number, then: RxDone): void {
    this.rxDone.set(rxId, then);
  }

  /** Forgets an operation that will never be sent (a cancelled triggered operation). */
  abandon(opId: number): void {
    this.finish(opId);
  }

  // ---- NIC interrupts ---------------------------------------------------------

  private *completions(cpu: Cpu): KPath {
    // Completions wait in the driver's own queue, so one whose path oopses does not lose the rest.
    this.completionQueue.push(...this.k.node.nic.takeCompletions());
    for (let c = this.completionQueue.shift(); c !== undefined; c = this.completionQueue.shift()) {
      yield step('portals', 'completion', 20, c.kind);
      // DSM hook: the kernel DSM's own messages (kernel/dsm/node.ts).
      if ((c.kind === 'tx-done' || c.kind === 'tx-undeliverable' || c.kind === 'tx-error') && c.cookie >= DSM_COOKIE_BASE) {
        yield* this.k.dsm.txComplete(c, cpu);
        continue;
      }
      if ((c.kind === 'tx-done' || c.kind === 'tx-undeliverable' || c.kind === 'tx-error') && c.cookie >= KMSG_COOKIE_BASE) {
        yield* this.k.jobs.txComplete(c.cookie, c.kind === 'tx-done', c.kind === 'tx-done' ? '' : c.reason, cpu);
        continue;
      }
      if (c.kind === 'tx-done' || c.kind === 'tx-undeliverable' || c.kind === 'tx-error') {
        // The NIC has read the payload: what a kernel-sent message held is free again.
        const held = this.txHolds.get(c.cookie);
        this.txHolds.delete(c.cookie);
        held?.();
      }
      if (c.kind === 'rx-done') {
        const then = this.rxDone.get(c.rxId);
        this.rxDone.delete(c.rxId);
        // On success the completion path owns what the receive holds (and releases it when done with it).
        const held = this.rxHolds.get(c.rxId);
        this.rxHolds.delete(c.rxId);
        try {
          if (then) yield* then(cpu);
        } catch (e) {
          // An oops before the path released (or handed on) what the receive holds: release it here.
          held?.();
          throw e;
        }
      } else if (c.kind === 'tx-done') {
        yield* this.sent(c.cookie, cpu);
      } else if (c.kind === 'tx-undeliverable' || c.kind === 'tx-error') {
        yield* this.failed(c.cookie, cpu);
      } else if (c.kind === 'rx-error') {
        this.rxDone.delete(c.rxId);
        const held = this.rxHolds.get(c.rxId);
        this.rxHolds.delete(c.rxId);
        held?.();
      }
    }
  }

  /** Local completion of a request: the SEND event (the payload has left the MD). */
  private *sent(opId: number, cpu: Cpu): KPath {
    const p = this.pending.get(opId);
    if (p === undefined || p.args.op === 'get') return;
    p.sent = true;
    const md = p.putMd!;
    if (md.eq && !(md.options & PTL.MD_EVENT_SEND_DISABLE) && !(md.options & PTL.MD_EVENT_SUCCESS_DISABLE)) {
      const ev = blankEvent(PTL.EVENT_SEND);
      ev.mlength = p.args.length;
      ev.userPtr = p.args.userPtr;
      ev.ptIndex = p.args.ptIndex;
      ev.matchBits = p.args.matchBits;
      ev.hdrData = p.args.hdrData;
      ev.remoteOffset = p.args.remoteOffset;
      if (p.args.op !== 'put') {
        ev.atomicOp = p.args.atomOp;
        ev.atomicType = p.args.atomType;
      }
      yield* this.post(p.pp, md.eq, ev, cpu);
    }
    if (md.ct && md.options & PTL.MD_EVENT_CT_SEND) yield* this.ctAdd(p.pp, md.ct, md.options & PTL.MD_EVENT_CT_BYTES ? p.args.length : 1, 0, cpu);
    // A put without an ack and an atomic without one are finished at the initiator.
    if ((p.args.op === 'put' || p.args.op === 'atomic') && p.args.ackReq === PTL.NO_ACK_REQ) this.finish(opId);
    // The SEND event comes before the ACK event of the same operation.
    if (p.earlyAck) yield* this.acked(p, p.earlyAck, cpu);
  }

  /** The ACK event and count of an acknowledged put or atomic. */
  private *acked(p: Pending, h: Header, cpu: Cpu): KPath {
    const md = p.putMd!;
    if (p.args.ackReq === PTL.ACK_REQ && md.eq && !(md.options & PTL.MD_EVENT_SUCCESS_DISABLE && h.niFail === PTL.NI_OK)) {
      const ev = blankEvent(PTL.EVENT_ACK);
      ev.mlength = h.mlength;
      ev.remoteOffset = h.moffset;
      ev.userPtr = p.args.userPtr;
      ev.ptIndex = p.args.ptIndex;
      ev.niFail = h.niFail;
      ev.list = h.ptIndex;
      yield* this.post(p.pp, md.eq, ev, cpu);
    }
    if (md.ct && md.options & PTL.MD_EVENT_CT_ACK) {
      if (h.niFail === PTL.NI_OK) yield* this.ctAdd(p.pp, md.ct, md.options & PTL.MD_EVENT_CT_BYTES ? h.mlength : 1, 0, cpu);
      else yield* this.ctAdd(p.pp, md.ct, 0, 1, cpu);
    }
    this.finish(h.opId);
  }

  private *failed(opId: number, cpu: Cpu): KPath {
    const p = this.pending.get(opId);
    if (p === undefined) return;
    const md = p.putMd ?? p.getMd!;
    if (md.eq) {
      const ev = blankEvent(p.args.op === 'get' ? PTL.EVENT_REPLY : PTL.EVENT_SEND);
      ev.niFail = PTL.NI_UNDELIVERABLE;
      ev.userPtr = p.args.userPtr;
      yield* this.post(p.pp, md.eq, ev, cpu);
    }
    if (md.ct) yield* this.ctAdd(p.pp, md.ct, 0, 1, cpu);
    this.finish(opId);
  }

  private finish(opId: number): void {
    const p = this.pending.get(opId);
    if (p === undefined) return;
    this.pending.delete(opId);
    p.release();
    if (p.putMd) p.putMd.busy--;
    if (p.getMd) p.getMd.busy--;
    if (!p.pp.process.alive) this.k.reapZombies();
  }

  /** Operations of `p` whose DMA may still touch its memory. */
  inflight(p: Process): number {
    let n = 0;
    for (const op of this.pending.values()) if (op.pp.process === p) n++;
    return n;
  }

  /** The receive interrupt: match every arrived header in the interrupt path. */
  private *receive(cpu: Cpu): KPath {
    const nic = this.k.node.nic;
    for (const rx of nic.takeRxHeaders()) {
      if (isKernelMessage(rx.header)) {
        yield* this.k.jobs.receive(rx, cpu);
        continue;
      }
      // DSM hook: the kernel DSM's messages are served in this interrupt (kernel/dsm/node.ts).
      if (isDsmMessage(rx.header)) {
        yield* this.k.dsm.receive(rx, cpu);
        continue;
      }
      const h = decodeHeader(rx.header);
      if (h === null) {
        nic.discard(rx.rxId);
        yield step('portals', 'drop', 50, 'not a Portals header');
        continue;
      }
      if (h.kind === MSG.ack || h.kind === MSG.reply) yield* this.response(h, rx.rxId, rx.payloadLen, cpu);
      else yield* this.request(h, rx.rxId, rx.src, cpu);
    }
  }

  /** An ack or a reply arrived for one of our operations. */
  private *response(h: Header, rxId: number, payloadLen: number, cpu: Cpu): KPath {
    const nic = this.k.node.nic;
    const p = this.pending.get(h.opId);
    if (p === undefined) {
      nic.discard(rxId);
      return;
    }
    if (h.kind === MSG.ack) {
      nic.discard(rxId);
      yield step('portals', 'ack', this.v['kernel.portalsMatchCycles'], `op ${h.opId} ni_fail ${h.niFail}`);
      if (!p.sent) p.earlyAck = h;
      else yield* this.acked(p, h, cpu);
      return;
    }
    // A reply: its data goes into the get MD.
    const md = p.getMd!;
    const len = Math.min(payloadLen, h.mlength, md.length - p.args.getOffset);
    yield step('portals', 'reply', this.v['kernel.portalsMatchCycles'], `op ${h.opId} ${len} B`);
    const self = this;
    const done = function* (c: Cpu, niFail: number): KPath {
      if (md.eq && !(md.options & PTL.MD_EVENT_SUCCESS_DISABLE && niFail === PTL.NI_OK)) {
        const ev = blankEvent(PTL.EVENT_REPLY);
        ev.mlength = niFail === PTL.NI_OK ? len : 0;
        ev.remoteOffset = h.moffset;
        ev.userPtr = p.args.userPtr;
        ev.ptIndex = p.args.ptIndex;
        ev.niFail = niFail;
        ev.list = h.ptIndex;
        yield* self.post(p.pp, md.eq, ev, c);
      }
      if (md.ct && md.options & PTL.MD_EVENT_CT_REPLY) {
        if (niFail === PTL.NI_OK) yield* self.ctAdd(p.pp, md.ct, md.options & PTL.MD_EVENT_CT_BYTES ? len : 1, 0, c);
        else yield* self.ctAdd(p.pp, md.ct, 0, 1, c);
      }
      self.finish(h.opId);
    };
    const where = len > 0 && h.niFail === PTL.NI_OK ? this.rxTarget(md.pieces, p.args.getOffset, len) : null;
    if (where !== null) {
      const free = once(() => self.unstage(where.slot));
      // If the DMA fails, or the completion path oopses, the slot goes back and the get is over.
      this.rxHolds.set(rxId, () => {
        free();
        self.finish(h.opId);
      });
      this.rxDone.set(rxId, function* (c) {
        where.after?.();
        free();
        yield* done(c, PTL.NI_OK);
      });
      nic.deposit(rxId, where.pa, len);
    } else {
      nic.discard(rxId);
      // No staging for a reply that must be scattered: it is dropped here, and the get fails.
      yield* done(cpu, len > 0 && h.niFail === PTL.NI_OK ? PTL.NI_DROPPED : h.niFail);
    }
  }

  /** A request (put, get, atomic, fetch, swap) arrived: match it and move the data. */
  private *request(h: Header, rxId: number, src: number, cpu: Cpu): KPath {
    const nic = this.k.node.nic;
    const v = this.v;
    const op = (['', 'put', 'get', 'atomic', 'fetch', 'swap'] as const)[h.kind] as PtlOp;
    const target = [...this.procs.values()].find((s) => s.process.pid === h.dstPid && s.process.alive);
    const ni = target?.nis[h.ni] ?? null;
    const respond = (niFail: number, mlength: number, moffset: number) => this.respond(h, src, niFail, mlength, moffset, null);
    if (target === undefined || ni === null) {
      // Portals 4: a message to a process or interface that does not exist
      // (yet: a rank still loading) is dropped, and an initiator that asked
      // for an ack or a reply is told PTL_NI_TARGET_INVALID, so it can retry
      // instead of waiting for an answer that will never come.
      nic.discard(rxId);
      yield step('portals', 'drop', v['kernel.portalsMatchCycles'], `no NI for pid ${h.dstPid}`);
      if (h.ackReq !== PTL.NO_ACK_REQ || (op !== 'put' && op !== 'atomic')) respond(PTL.NI_TARGET_INVALID, 0, 0);
      return;
    }
    const pt = ni.pts[h.ptIndex];
    if (!pt || !pt.enabled) {
      ni.status[PTL.SR_DROP_COUNT]++;
      nic.discard(rxId);
      yield step('portals', 'drop', v['kernel.portalsMatchCycles'], `pt ${h.ptIndex} ${pt ? 'disabled' : 'not allocated'}`);
      if (h.ackReq !== PTL.NO_ACK_REQ || (op !== 'put' && op !== 'atomic')) respond(PTL.NI_PT_DISABLED, 0, 0);
      return;
    }
    const m: Incoming = { op, matchBits: h.matchBits, rlength: h.rlength, roffset: h.roffset, uid: h.uid, nid: h.srcNid, pid: h.srcPid, rank: h.srcRank, atomicType: h.atomType, swapOp: h.atomOp };
    let list = PTL.PRIORITY_LIST as number;
    let steps = 0;
    let entry: ListEntry | undefined;
    for (const e of pt.priority) {
      steps++;
      if (matches(m, e, ni.logical, ni.matching)) {
        entry = e;
        break;
      }
    }
    if (entry === undefined) {
      list = PTL.OVERFLOW_LIST;
      for (const e of pt.overflow) {
        steps++;
        if (matches(m, e, ni.logical, ni.matching)) {
          entry = e;
          break;
        }
      }
    }
    yield step('portals', 'match', v['kernel.portalsMatchCycles'] * Math.max(1, steps), `${op} pt ${h.ptIndex} bits 0x${h.matchBits.toString(16)}: ${entry ? `${entry.kind} on ${list === 0 ? 'priority' : 'overflow'}` : 'no match'}`);
    if (entry === undefined) {
      yield* this.refuse(target, ni, pt, h, op, rxId, respond, cpu, null);
      return;
    }
    // An entry whose memory its owner made read-only takes no more writes (see revokeWrite).
    const fail = op !== 'get' && permission(m, entry) === PTL.NI_OK && !entry.writable ? PTL.NI_PERM_VIOLATION : permission(m, entry);
    if (fail !== PTL.NI_OK) {
      ni.status[fail === PTL.NI_PERM_VIOLATION ? PTL.SR_PERMISSION_VIOLATIONS : PTL.SR_OPERATION_VIOLATIONS]++;
      nic.discard(rxId);
      if (h.ackReq !== PTL.NO_ACK_REQ || (op !== 'put' && op !== 'atomic')) respond(fail, 0, 0);
      return;
    }
    const offsetBefore = entry.offset;
    const eventWanted = pt.eq !== null && !(entry.options & (PTL.ME_EVENT_COMM_DISABLE | PTL.ME_EVENT_SUCCESS_DISABLE));
    const noUnexpectedRoom = list === PTL.OVERFLOW_LIST && !(entry.options & PTL.ME_UNEXPECTED_HDR_DISABLE) && pt.unexpected.length >= ni.limits.max_unexpected_headers;
    // The last slot of a flow-controlled entry's EQ is kept for its PT_DISABLED event.
    const noEventRoom = eventWanted && pt.eq!.events.length >= pt.eq!.size - 1;
    if (pt.options & PTL.PT_FLOWCTRL && (noUnexpectedRoom || noEventRoom)) {
      // Flow control: with no room for the event or the unexpected header, the entry is disabled and the message dropped.
      ni.status[PTL.SR_DROP_COUNT]++;
      nic.discard(rxId);
      yield* this.disablePt(target, pt, cpu);
      if (h.ackReq !== PTL.NO_ACK_REQ || (op !== 'put' && op !== 'atomic')) respond(PTL.NI_PT_DISABLED, 0, 0);
      return;
    }
    const pl = place(m, entry, { maxMsgSize: ni.limits.max_msg_size, maxAtomicSize: ni.limits.max_atomic_size });
    const e = entry;
    const ext = op === 'put' ? e.ext : null;
    // Staging the transfer needs, taken before anything is committed: none free, and the message is refused.
    // A handler's message is staged whole: the handler reads its first payload_max bytes, and on
    // deliver the entry gets every matched byte (what its event reports), as for any other put.
    const extLen = ext !== null ? Math.max(Math.min(h.rlength, ext.payloadMax), pl.mlength) : 0;
    let slot = -1;
    let rx: { pa: number; after: (() => void) | null; slot: number } | null = null;
    let tx: { pa: number; slot: number } | null = null;
    let refused = false;
    if (ext !== null) {
      if (extLen > 0) refused = (slot = this.staging.take(extLen)) < 0;
    } else if (pl.mlength > 0 && op === 'put') {
      rx = this.rxTarget(e.pieces, pl.moffset, pl.mlength);
      refused = rx === null;
      if (rx !== null) slot = rx.slot;
    } else if (pl.mlength > 0 && op === 'get') {
      tx = this.txSource(e.pieces, pl.moffset, pl.mlength);
      refused = tx === null;
      if (tx !== null) slot = tx.slot;
    } else if (pl.mlength > 0) refused = (slot = this.staging.take(pl.mlength)) < 0;
    if (refused) {
      e.offset = offsetBefore;
      yield* this.refuse(target, ni, pt, h, op, rxId, respond, cpu, `no staging for ${pl.mlength} B`);
      return;
    }
    if (pl.unlink) this.remove(ni, e);
    // The operation pins the entry's memory it touches (and a handler's grant) until it is over,
    // however the entry is unlinked or unmapped meanwhile; then it gives its staging slot back.
    const hold = this.pin([...slice(e.pieces, pl.moffset, pl.mlength), ...(ext?.grant ?? [])]);
    const release = once(() => {
      hold.release();
      this.unstage(slot);
    });
    // Until a reply takes over `release` (and gives it back once the NIC has sent the reply),
    // the receive's completion path owns it; if that path dies, abandon() gives everything back.
    let handedOn = false;
    const abandon = () => {
      if (!handedOn) release();
    };
    const listNow = list;
    const self = this;
    const mem = this.k.node.memory;
    const deliver = function* (c: Cpu, data: Uint8Array | null): KPath {
      // Apply atomics, then send the reply or ack, then post events.
      let old: Uint8Array | null = null;
      if ((op === 'atomic' || op === 'fetch' || op === 'swap') && data !== null && pl.mlength > 0) {
        const part = slice(e.pieces, pl.moffset, pl.mlength);
        const cur = gather(mem, part);
        old = applyAtomic(h.atomOp, h.atomType, cur, data.subarray(0, pl.mlength), usesOperand(h.atomOp) ? h.operand : null);
        scatter(mem, part, cur);
        yield step('portals', 'atomic', 100 + pl.mlength, `op ${h.atomOp} type ${h.atomType} ${pl.mlength} B`);
      }
      // A reply with data holds the memory it is read from until the NIC has sent it.
      if (op === 'get') {
        handedOn = true;
        self.respond(h, src, PTL.NI_OK, pl.mlength, pl.moffset, { pa: tx?.pa ?? 0, len: pl.mlength }, listNow, release);
      } else if (op === 'fetch' || op === 'swap') {
        // The old value goes back from the operand's own slot, now read.
        if (old) mem.write(slot, old);
        handedOn = true;
        self.respond(h, src, PTL.NI_OK, pl.mlength, pl.moffset, { pa: old ? slot : 0, len: old ? old.length : 0 }, listNow, release);
      } else {
        release();
        if (h.ackReq !== PTL.NO_ACK_REQ) self.respond(h, src, PTL.NI_OK, pl.mlength, pl.moffset, null, listNow);
      }
      yield* self.targetEvents(target, ni, pt, e, listNow, h, op, pl.mlength, pl.moffset, pl.unlink, c);
    };
    if (ext !== null) {
      // An extension sees the whole payload first, in kernel staging memory, then decides.
      const run = function* (c: Cpu): KPath {
        const payload = new Uint8Array(extLen);
        if (extLen > 0) mem.read(slot, payload);
        const verdict = yield* runExtension(self, ext, h, payload, c);
        if (verdict === 'drop') {
          release();
          if (h.ackReq !== PTL.NO_ACK_REQ) self.respond(h, src, PTL.NI_OK, 0, pl.moffset, null);
          return;
        }
        if (pl.mlength > 0) scatter(mem, slice(e.pieces, pl.moffset, pl.mlength), payload.subarray(0, pl.mlength));
        yield* deliver(c, null);
      };
      if (extLen > 0) {
        this.rxHolds.set(rxId, abandon);
        this.rxDone.set(rxId, run);
        nic.deposit(rxId, slot, extLen);
      } else {
        nic.discard(rxId);
        yield* self.owning(run(cpu), abandon);
      }
      return;
    }
    if (pl.mlength > 0 && op !== 'get') {
      this.rxHolds.set(rxId, abandon);
      if (rx !== null) {
        const where = rx;
        this.rxDone.set(rxId, function* (c) {
          where.after?.();
          yield* deliver(c, null);
        });
        nic.deposit(rxId, where.pa, pl.mlength);
      } else {
        this.rxDone.set(rxId, function* (c) {
          const data = new Uint8Array(pl.mlength);
          mem.read(slot, data);
          yield* deliver(c, data);
        });
        nic.deposit(rxId, slot, pl.mlength);
      }
      return;
    }
    nic.discard(rxId);
    yield* this.owning(deliver(cpu, null), abandon);
  }

  /** Runs `path`; if it dies with a host exception (an oops), `abandon` first gives back what it held. */
  private *owning(path: KPath, abandon: () => void): KPath {
    try {
      yield* path;
    } catch (e) {
      abandon();
      throw e;
    }
  }

  /**
   * Drops a request the target cannot take (no matching entry, or no staging
   * for it), by the Portals flow-control rules: counted; on a table with
   * PTL_PT_FLOWCTRL the table is disabled and the initiator told
   * PT_DISABLED, otherwise it is told DROPPED when it expects an answer.
   */
  private *refuse(target: PortalsProcess, ni: NetworkInterface, pt: PortalTableEntry, h: Header, op: PtlOp, rxId: number, respond: (niFail: number, mlength: number, moffset: number) => void, cpu: Cpu, why: string | null): KPath {
    ni.status[PTL.SR_DROP_COUNT]++;
    this.k.node.nic.discard(rxId);
    if (why !== null) yield step('portals', 'drop', this.v['kernel.portalsMatchCycles'], why);
    if (pt.options & PTL.PT_FLOWCTRL) yield* this.disablePt(target, pt, cpu);
    if (h.ackReq !== PTL.NO_ACK_REQ || (op !== 'put' && op !== 'atomic')) respond(pt.options & PTL.PT_FLOWCTRL ? PTL.NI_PT_DISABLED : PTL.NI_DROPPED, 0, 0);
  }

  private *disablePt(pp: PortalsProcess, pt: PortalTableEntry, cpu: Cpu): KPath {
    if (!pt.enabled) return;
    pt.enabled = false;
    if (pt.eq) {
      const ev = blankEvent(PTL.EVENT_PT_DISABLED);
      ev.ptIndex = pt.index;
      ev.niFail = PTL.NI_PT_DISABLED;
      yield* this.post(pp, pt.eq, ev, cpu);
    }
  }

  /**
   * Sends an ack or a reply (with data from physical memory) back to the
   * initiator, saying which list took the request (ptl_list); `held` (what
   * the reply's data is read from) is released once the NIC has sent it.
   */
  private respond(req: Header, src: number, niFail: number, mlength: number, moffset: number, data: { pa: number; len: number } | null, list: number = PTL.PRIORITY_LIST, held?: () => void): void {
    const h = emptyHeader(data !== null || (req.kind !== MSG.put && req.kind !== MSG.atomic) ? MSG.reply : MSG.ack);
    h.ni = req.ni;
    h.dstPid = req.srcPid;
    h.srcNid = this.k.nid;
    h.opId = req.opId;
    h.mlength = mlength;
    h.moffset = moffset;
    h.niFail = niFail;
    // The ACK and REPLY events tell the initiator which list took the request (ptl_list).
    h.ptIndex = list;
    let cookie = 0;
    if (held !== undefined) {
      cookie = this.nextHold++;
      this.txHolds.set(cookie, held);
    }
    this.k.node.nic.transmit({ dst: src, header: encodeHeader(h), payloadAddr: data?.pa ?? 0, payloadLen: data?.len ?? 0, cookie });
  }

  private *targetEvents(pp: PortalsProcess, ni: NetworkInterface, pt: PortalTableEntry, e: ListEntry, list: number, h: Header, op: PtlOp, mlength: number, moffset: number, unlinked: boolean, cpu: Cpu): KPath {
    const overflow = list === PTL.OVERFLOW_LIST;
    // A message landing on the overflow list is a PUT (GET, ...) event with ptl_list OVERFLOW; the
    // *_OVERFLOW events come later, when an appended priority entry matches its unexpected header.
    const ev = blankEvent(BASE_EVENT[op]);
    ev.start = e.start + moffset;
    ev.userPtr = e.userPtr;
    ev.hdrData = h.hdrData;
    ev.matchBits = h.matchBits;
    ev.rlength = h.rlength;
    ev.mlength = mlength;
    ev.remoteOffset = h.roffset;
    ev.uid = h.uid;
    ev.nid = h.srcNid;
    ev.pid = h.srcPid;
    ev.rank = h.srcRank;
    ev.ptIndex = pt.index;
    ev.atomicOp = h.atomOp;
    ev.atomicType = h.atomType;
    ev.list = list;
    if (overflow && !(e.options & PTL.ME_UNEXPECTED_HDR_DISABLE)) pt.unexpected.push({ event: { ...ev }, entry: e, op });
    if (pt.eq && !(e.options & PTL.ME_EVENT_COMM_DISABLE) && !(e.options & PTL.ME_EVENT_SUCCESS_DISABLE)) {
      yield* this.post(pp, pt.eq, ev, cpu);
    }
    if (e.ct && e.options & PTL.ME_EVENT_CT_COMM) {
      yield* this.ctAdd(pp, e.ct, e.options & PTL.ME_EVENT_CT_BYTES ? mlength : 1, 0, cpu);
    }
    if (unlinked && pt.eq && !(e.options & PTL.ME_EVENT_UNLINK_DISABLE)) {
      const u = blankEvent(PTL.EVENT_AUTO_UNLINK);
      u.userPtr = e.userPtr;
      u.ptIndex = pt.index;
      u.list = list;
      yield* this.post(pp, pt.eq, u, cpu);
    }
    void ni;
  }

  /**
   * The *_OVERFLOW events (and counts) for unexpected headers taken off a
   * portal table entry by an appended entry or a search-and-delete, each
   * followed by AUTO_FREE once no header refers to its used-up overflow entry.
   */
  private *overflowEvents(pp: PortalsProcess, pt: PortalTableEntry, taken: readonly Unexpected[], options: number, ct: Counter | null, userPtr: bigint, cpu: Cpu): KPath {
    for (const u of taken) {
      const ev = { ...u.event, type: BASE_EVENT[u.op] + 1, userPtr };
      if (pt.eq && !(options & (PTL.ME_EVENT_COMM_DISABLE | PTL.ME_EVENT_OVER_DISABLE))) yield* this.post(pp, pt.eq, ev, cpu);
      if (ct && options & PTL.ME_EVENT_CT_OVERFLOW) yield* this.ctAdd(pp, ct, options & PTL.ME_EVENT_CT_BYTES ? ev.mlength : 1, 0, cpu);
      const o = u.entry;
      if (!o.linked && !pt.unexpected.some((x) => x.entry === o) && pt.eq && !(o.options & PTL.ME_EVENT_UNLINK_DISABLE)) {
        const f = blankEvent(PTL.EVENT_AUTO_FREE);
        f.userPtr = o.userPtr;
        f.ptIndex = pt.index;
        f.list = PTL.OVERFLOW_LIST;
        yield* this.post(pp, pt.eq, f, cpu);
      }
    }
  }

  /** PtlMESearch / PtlLESearch over the unexpected headers. */
  *search(pp: PortalsProcess, ni: NetworkInterface, ptIndex: number, kind: 'me' | 'le', d: EntryDesc, searchOp: number, userPtr: bigint, cpu: Cpu): KPath<number> {
    const pt = ni.pts[ptIndex];
    if (!(ptIndex >= 0 && ptIndex < ni.pts.length) || !pt) return PTL.ARG_INVALID;
    if ((kind === 'me') !== ni.matching || (searchOp !== PTL.SEARCH_ONLY && searchOp !== PTL.SEARCH_DELETE)) return PTL.ARG_INVALID;
    const ct = ni.ctByHandle(d.ct);
    if (ct === undefined) return PTL.ARG_INVALID;
    const probe = { length: d.length, options: d.options, matchBits: kind === 'me' ? d.matchBits : 0n, ignoreBits: kind === 'me' ? d.ignoreBits : 0n, uid: d.uid, matchNid: d.matchNid, matchPid: d.matchPid, matchRank: d.matchRank, minFree: 0, offset: 0 };
    const found = pt.unexpected.filter((u) => {
      const ev = u.event;
      return matches({ op: 'put', matchBits: ev.matchBits, rlength: ev.rlength, roffset: ev.remoteOffset, uid: ev.uid, nid: ev.nid, pid: ev.pid, rank: ev.rank, atomicType: 0, swapOp: 0 }, probe, ni.logical, ni.matching);
    });
    yield step('portals', 'search', this.v['kernel.portalsMatchCycles'] * Math.max(1, pt.unexpected.length), `${found.length} unexpected header(s)`);
    if (searchOp === PTL.SEARCH_DELETE && found.length > 0) {
      // Deleting is taking the headers as an appended entry would: *_OVERFLOW events, not SEARCH.
      for (const u of found) pt.unexpected.splice(pt.unexpected.indexOf(u), 1);
      yield* this.overflowEvents(pp, pt, found, d.options, ct, userPtr, cpu);
      return PTL.OK;
    }
    if (pt.eq && !(d.options & PTL.ME_EVENT_COMM_DISABLE)) {
      if (found.length === 0) {
        const ev = blankEvent(PTL.EVENT_SEARCH);
        ev.niFail = PTL.NI_NO_MATCH;
        ev.userPtr = userPtr;
        ev.ptIndex = ptIndex;
        yield* this.post(pp, pt.eq, ev, cpu);
      } else {
        for (const u of searchOp === PTL.SEARCH_ONLY ? found.slice(0, 1) : found) {
          const ev = { ...u.event, type: PTL.EVENT_SEARCH, userPtr };
          yield* this.post(pp, pt.eq, ev, cpu);
        }
      }
    }
    if (ct && d.options & PTL.ME_EVENT_CT_COMM) yield* this.ctAdd(pp, ct, found.length > 0 ? 1 : 0, 0, cpu);
    return PTL.OK;
  }
}

export interface EntryDesc {
  readonly start: number;
  readonly length: number;
  readonly options: number;
  readonly ct: number;
  readonly uid: number;
  readonly matchBits: bigint;
  readonly ignoreBits: bigint;
  readonly matchNid: number;
  readonly matchPid: number;
  readonly matchRank: number;
  readonly minFree: number;
}

/** The target event of each operation (its *_OVERFLOW event is the next type). */
const BASE_EVENT: Readonly<Record<PtlOp, number>> = { put: PTL.EVENT_PUT, get: PTL.EVENT_GET, atomic: PTL.EVENT_ATOMIC, fetch: PTL.EVENT_FETCH_ATOMIC, swap: PTL.EVENT_FETCH_ATOMIC };

export const EVENT_NAMES: readonly string[] = ['GET', 'GET_OVERFLOW', 'PUT', 'PUT_OVERFLOW', 'ATOMIC', 'ATOMIC_OVERFLOW', 'FETCH_ATOMIC', 'FETCH_ATOMIC_OVERFLOW', 'REPLY', 'SEND', 'ACK', 'PT_DISABLED', 'LINK', 'AUTO_UNLINK', 'AUTO_FREE', 'SEARCH'];
