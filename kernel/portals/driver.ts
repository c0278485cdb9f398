// The Portals driver of one node's kernel: every process's Portals state
// and what the node's operations in flight hold, and the entry points the
// Portals calls and the NIC dispatch (kernel/nicdispatch.ts) use. The
// mechanisms are in their own files: state.ts (a process's NIs), objects.ts
// (the objects and their handles), lifecycle.ts (allocating and freeing
// them), usermem.ts (user memory to physical pieces), staging.ts, lists.ts
// (append, unlink, search), match.ts (the match rule and the list walk),
// initiator.ts (send, acks, replies), target.ts (a request's match, deposit,
// atomics and answer), events.ts (events, counters, triggers). Each piece
// of work is a traced step with a profile cost.

import type { NicCompletion, RxHeader } from '../../hw/nic.ts';
import type { Cpu } from '../cpu.ts';
import type { Kernel } from '../kernel.ts';
import { COOKIE_BASE } from '../nicwire.ts';
import { Pin } from '../pin.ts';
import type { Process } from '../process.ts';
import { type KPath, step } from '../step.ts';
import { PTL } from './defs.ts';
import { ctAdd, disablePt, overflowEvents, post, targetEvents, trigger, wakeWaiters } from './events.ts';
import type { AttachedExtension } from './extension.ts';
import { type Pending, type SendArgs, abandon, acked, failed, finish, inflight, resolve, response, send, sendFromKernel, sent } from './initiator.ts';
import { type Piece, StagingRing } from './iov.ts';
import { type EntryDesc, append, remove, search, unlink } from './lists.ts';
import { ctAlloc, ctFree, eqAlloc, eqFree, findCt, findEq, mdBind, mdRelease, niFini, niInit, ptAlloc, ptEnable, ptFree } from './lifecycle.ts';
import type { PtlOp } from './match.ts';
import type { Counter, EventQueue, Limits, ListEntry, MemoryDescriptor, NetworkInterface, PortalTableEntry, PtlEvent, Unexpected } from './objects.ts';
import { rxTarget, txSource, unstage } from './staging.ts';
import { PortalsProcess, type TargetId } from './state.ts';
import { owning, refuse, request, respond } from './target.ts';
import { memoryOf, physical, revokeWrite } from './usermem.ts';
import { type Header, MSG, decodeHeader } from './wire.ts';

type TxCompletion = Extract<NicCompletion, { kind: 'tx-done' | 'tx-undeliverable' | 'tx-error' }>;
type RxCompletion = Extract<NicCompletion, { kind: 'rx-done' | 'rx-error' }>;

/** What to do when a receive DMA completes. */
type RxDone = (cpu: Cpu) => KPath;

/** Kernel memory for staging non-contiguous transfers and atomic operands. */
const STAGING_BASE = 1 * 1024 * 1024;
const STAGING_BYTES = 12 * 1024 * 1024;

export class PortalsDriver {
  // The node's Portals state, shared by the mechanism files (internal to kernel/portals/).
  readonly procs = new Map<number, PortalsProcess>();
  /** Operations this node initiated that are not finished, by operation id (the transmit cookie). */
  readonly pending = new Map<number, Pending>();
  /** What to do when a receive DMA completes, by receive id. */
  readonly rxDone = new Map<number, RxDone>();
  /** What a receive in flight holds, released if its DMA fails (on success its completion releases it). */
  readonly rxHolds = new Map<number, () => void>();
  /** What a transmit the kernel sent holds (a staging slot, pins on the memory it reads), by cookie. */
  readonly txHolds = new Map<number, () => void>();
  nextOp = 1;
  nextHold: number = COOKIE_BASE.portalsHold;
  readonly staging: StagingRing;

  constructor(readonly k: Kernel) {
    const reserved = Math.min(16 * 1024 * 1024, k.node.memory.size / 8);
    this.staging = new StagingRing(Math.min(STAGING_BASE, reserved / 4), Math.min(STAGING_BYTES, reserved / 2));
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
  dropObjects(pp: PortalsProcess, ni: NetworkInterface): void {
    for (const other of pp.nis) if (other !== null) for (const ct of other.cts.values()) ct.cancelTriggered((t) => other === ni || t.ni === ni);
    for (const md of ni.mds.values()) md.pin.release();
    for (const e of ni.entries.values()) {
      e.pin.release();
      e.ext?.grantPin.release();
    }
  }

  /** Pins the memory of `pieces` for an operation in flight. */
  pin(pieces: readonly Piece[]): Pin {
    return Pin.of(this.k.phys, pieces);
  }

  /** Bytes of kernel staging owned by transfers in flight. */
  get stagingBusy(): number {
    return this.staging.busyBytes;
  }

  get v() {
    return this.k.profile.values;
  }

  // ---- Entry points of the calls and of the mechanisms; each is written in the file of its mechanism.

  txSource(pieces: readonly Piece[], off: number, len: number): { pa: number; slot: number } | null {
    return txSource(this, pieces, off, len);
  }

  rxTarget(pieces: readonly Piece[], off: number, len: number): { pa: number; after: (() => void) | null; slot: number } | null {
    return rxTarget(this, pieces, off, len);
  }

  unstage(slot: number): void {
    return unstage(this, slot);
  }

  niInit(pp: PortalsProcess, options: number, desired: Partial<Limits> | null, iface = 0): { rc: number; ni?: NetworkInterface } {
    return niInit(pp, options, desired, iface);
  }

  niFini(pp: PortalsProcess, handle: number): number {
    return niFini(this, pp, handle);
  }

  ptAlloc(ni: NetworkInterface, options: number, eqHandle: number, index: number): { rc: number; index?: number } {
    return ptAlloc(ni, options, eqHandle, index);
  }

  ptFree(ni: NetworkInterface, index: number): number {
    return ptFree(ni, index);
  }

  ptEnable(ni: NetworkInterface, index: number, on: boolean): number {
    return ptEnable(ni, index, on);
  }

  eqAlloc(ni: NetworkInterface, count: number): { rc: number; eq?: EventQueue } {
    return eqAlloc(ni, count);
  }

  eqFree(pp: PortalsProcess, h: number, cpu: Cpu): KPath<number> {
    return eqFree(this, pp, h, cpu);
  }

  findEq(pp: PortalsProcess, h: number): EventQueue | null {
    return findEq(pp, h);
  }

  findCt(pp: PortalsProcess, h: number): Counter | null {
    return findCt(pp, h);
  }

  ctAlloc(ni: NetworkInterface): { rc: number; ct?: Counter } {
    return ctAlloc(ni);
  }

  ctFree(pp: PortalsProcess, h: number, cpu: Cpu): KPath<number> {
    return ctFree(this, pp, h, cpu);
  }

  ctAdd(pp: PortalsProcess, ct: Counter, success: number, failure: number, cpu: Cpu, set = false): KPath {
    return ctAdd(this, pp, ct, success, failure, cpu, set);
  }

  mdBind(pp: PortalsProcess, ni: NetworkInterface, start: number, length: number, options: number, eqH: number, ctH: number): { rc: number; md?: MemoryDescriptor } {
    return mdBind(this, pp, ni, start, length, options, eqH, ctH);
  }

  mdRelease(pp: PortalsProcess, h: number): number {
    return mdRelease(pp, h);
  }

  physical(p: Process, start: number, length: number, write = false): Piece[] | null {
    return physical(p, start, length, write);
  }

  revokeWrite(p: Process, start: number, length: number): void {
    return revokeWrite(this, p, start, length);
  }

  memoryOf(p: Process, ni: NetworkInterface, start: number, length: number, iovec: boolean, write = false): Piece[] | null {
    return memoryOf(this, p, ni, start, length, iovec, write);
  }

  append(pp: PortalsProcess, ni: NetworkInterface, ptIndex: number, kind: 'me' | 'le', d: EntryDesc, list: number, userPtr: bigint, cpu: Cpu): { rc: number; entry?: ListEntry; work?: KPath } {
    return append(this, pp, ni, ptIndex, kind, d, list, userPtr, cpu);
  }

  unlink(pp: PortalsProcess, h: number): number {
    return unlink(this, pp, h);
  }

  remove(ni: NetworkInterface, e: ListEntry): void {
    return remove(ni, e);
  }

  post(pp: PortalsProcess, eq: EventQueue, ev: PtlEvent, cpu: Cpu): KPath {
    return post(this, pp, eq, ev, cpu);
  }

  wakeWaiters(pp: PortalsProcess, cpu: Cpu): KPath {
    return wakeWaiters(this, pp, cpu);
  }

  resolve(ni: NetworkInterface, t: TargetId): { nid: number; pid: number } | null {
    return resolve(this, ni, t);
  }

  send(pp: PortalsProcess, a: SendArgs, triggered = false): { rc: number; work?: KPath; fire?: (cpu: Cpu) => KPath; opId?: number; ni?: NetworkInterface } {
    return send(this, pp, a, triggered);
  }

  sendFromKernel(pp: PortalsProcess, ni: NetworkInterface, t: TargetId, ptIndex: number, matchBits: bigint, data: Uint8Array, direct = false): boolean {
    return sendFromKernel(this, pp, ni, t, ptIndex, matchBits, data, direct);
  }

  /** The extensions attached by each process, by id. */
  readonly extensions = new Map<number, AttachedExtension>();

  nextExt = 1;

  newExtensionId(): number {
    return this.nextExt++;
  }

  trigger(ct: Counter, threshold: number, fire: (cpu: Cpu) => KPath, cpu: Cpu, cancel?: () => void, ni?: NetworkInterface): KPath {
    return trigger(ct, threshold, fire, cpu, cancel, ni);
  }

  abandon(opId: number): void {
    return abandon(this, opId);
  }

  /** A transmit of ours ended: what a kernel-sent message held is free again (the NIC has read it); an operation's SEND event or failure. */
  *txComplete(c: TxCompletion, cpu: Cpu): KPath {
    const held = this.txHolds.get(c.cookie);
    this.txHolds.delete(c.cookie);
    held?.();
    if (c.kind === 'tx-done') yield* this.sent(c.cookie, cpu);
    else yield* this.failed(c.cookie, cpu);
  }

  /** A receive DMA of ours ended: on success its completion path runs (and owns what the receive holds); on failure that is released. */
  *rxComplete(c: RxCompletion, cpu: Cpu): KPath {
    const then = this.rxDone.get(c.rxId);
    this.rxDone.delete(c.rxId);
    const held = this.rxHolds.get(c.rxId);
    this.rxHolds.delete(c.rxId);
    if (c.kind === 'rx-error') {
      held?.();
      return;
    }
    try {
      if (then) yield* then(cpu);
    } catch (e) {
      // An oops before the path released (or handed on) what the receive holds: release it here.
      held?.();
      throw e;
    }
  }

  sent(opId: number, cpu: Cpu): KPath {
    return sent(this, opId, cpu);
  }

  acked(p: Pending, h: Header, cpu: Cpu): KPath {
    return acked(this, p, h, cpu);
  }

  failed(opId: number, cpu: Cpu): KPath {
    return failed(this, opId, cpu);
  }

  finish(opId: number): void {
    return finish(this, opId);
  }

  inflight(p: Process): number {
    return inflight(this, p);
  }

  /** A Portals header arrived (receive interrupt): it is matched in the interrupt path. */
  *receive(rx: RxHeader, cpu: Cpu): KPath {
    const h = decodeHeader(rx.header);
    if (h === null) {
      this.k.node.nic.discard(rx.rxId);
      yield step('portals', 'drop', 50, 'not a Portals header');
      return;
    }
    if (h.kind === MSG.ack || h.kind === MSG.reply) yield* this.response(h, rx.rxId, rx.payloadLen, cpu);
    else yield* this.request(h, rx.rxId, rx.src, cpu);
  }

  response(h: Header, rxId: number, payloadLen: number, cpu: Cpu): KPath {
    return response(this, h, rxId, payloadLen, cpu);
  }

  request(h: Header, rxId: number, src: number, cpu: Cpu): KPath {
    return request(this, h, rxId, src, cpu);
  }

  owning(path: KPath, abandon: () => void): KPath {
    return owning(path, abandon);
  }

  refuse(target: PortalsProcess, ni: NetworkInterface, pt: PortalTableEntry, h: Header, op: PtlOp, rxId: number, respond: (niFail: number, mlength: number, moffset: number) => void, cpu: Cpu, why: string | null): KPath {
    return refuse(this, target, ni, pt, h, op, rxId, respond, cpu, why);
  }

  disablePt(pp: PortalsProcess, pt: PortalTableEntry, cpu: Cpu): KPath {
    return disablePt(this, pp, pt, cpu);
  }

  respond(req: Header, src: number, niFail: number, mlength: number, moffset: number, data: { pa: number; len: number } | null, list: number = PTL.PRIORITY_LIST, held?: () => void): void {
    return respond(this, req, src, niFail, mlength, moffset, data, list, held);
  }

  targetEvents(pp: PortalsProcess, pt: PortalTableEntry, e: ListEntry, list: number, h: Header, op: PtlOp, mlength: number, moffset: number, unlinked: boolean, cpu: Cpu): KPath {
    return targetEvents(this, pp, pt, e, list, h, op, mlength, moffset, unlinked, cpu);
  }

  overflowEvents(pp: PortalsProcess, pt: PortalTableEntry, taken: readonly Unexpected[], options: number, ct: Counter | null, userPtr: bigint, cpu: Cpu): KPath {
    return overflowEvents(this, pp, pt, taken, options, ct, userPtr, cpu);
  }

  search(pp: PortalsProcess, ni: NetworkInterface, ptIndex: number, kind: 'me' | 'le', d: EntryDesc, searchOp: number, userPtr: bigint, cpu: Cpu): KPath<number> {
    return search(this, pp, ni, ptIndex, kind, d, searchOp, userPtr, cpu);
  }
}
