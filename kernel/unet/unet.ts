// The kernel's half of U-Net: it sets endpoints and channels up and is then
// off the data path. It checks a segment (page aligned, writable, inside one
// region, so physically contiguous), pins it as Portals pins its memory
// (docs/SECURITY.md), and programs the NIC (hw/unet/unetnic.ts). Channel
// tags are assigned by the kernel that receives on them and handed only to
// the peer's kernel, after it has checked that the peer process exists, owns
// the endpoint and runs as the same user: a kernel message (control.ts) for
// a remote peer, a direct check for one on this node. Endpoints are
// reachable by their owner only; they go when it exits.
//
// When a channel's end goes (unet_close, unet_destroy, the owner's exit)
// the kernel tells the peer's kernel (CLOSE), which removes the peer's end
// from its NIC: the peer's later sends on it come back BAD_CHANNEL in its
// send queue instead of vanishing, and a new unet_open starts a fresh
// handshake (checked again: a different user's endpoint there is refused).
// Messages already on the wire when the end went are dropped by the
// receiving NIC (counted as forged): the window is one network latency.

import { UNET_CREATE_FLAGS, UNET_HDR, UNET_LIMITS, unetQueues } from '../../hw/unet/layout.ts';
import type { UnetControl } from '../../hw/unet/unetnic.ts';
import type { Cpu } from '../cpu.ts';
import { ERRNO, fail } from '../errno.ts';
import { Incarnations } from '../incarnations.ts';
import type { Kernel } from '../kernel.ts';
import { Pin } from '../pin.ts';
import type { Process, Thread } from '../process.ts';
import { type KPath, type TracePath, block, step } from '../step.ts';
import { UNET_CTL, UNET_CTL_NAMES, type UnetControlMsg, decodeControl, encodeControl } from './control.ts';
import { deliverMessageUpcall } from './userupcall.ts';

const PAGE = 4096;

/**
 * Endpoints one user may hold on a node: a quarter of the NIC's, so one user
 * (however many processes it starts) cannot take them all. Per uid, not per
 * process, because a user can start processes; the uid is also what a channel
 * authenticates.
 */
export const UNET_ENDPOINTS_PER_UID = UNET_LIMITS.MAX_ENDPOINTS / 4;

interface Peer {
  readonly nid: number;
  readonly pid: number;
  readonly ep: number;
  readonly chan: number;
}

interface KChannel {
  readonly peer: Peer;
  /**
   * The peer process's incarnation (its kernel's serial for it; 0 until its
   * kernel has answered): the peer's pid may be reused by a later process
   * (every yod rank is pid 100), its incarnation is not.
   */
  peerSerial: number;
  readonly rxTag: number;
  /** Set once the peer's tag is known. */
  txTag: number | null;
  /** The thread waiting in unet_open, and the open's id. */
  waiter: Thread | null;
  req: number;
  /** Whether our process called unet_open on it (false: only the peer opened it, we accepted). */
  ownerOpened: boolean;
  /** The peer closed its end: ours stays, sending nothing and receiving nothing, until our process closes or reopens it. */
  peerGone?: boolean;
}

export interface KEndpoint {
  /** The NIC's id (unique on the node). */
  readonly id: number;
  /** What the owner calls it: 1, 2, ... per process, so SPMD ranks can name each other's. */
  readonly handle: number;
  readonly owner: Process;
  readonly va: number;
  readonly len: number;
  readonly segPa: number;
  readonly entries: number;
  readonly upcall: boolean;
  /** UNET_USER_UPCALL: the upcall also diverts the owner's interrupted computation into its message handler. */
  readonly userUpcall: boolean;
  readonly pin: Pin;
  readonly channels: Map<number, KChannel>;
  readonly waiters: Set<Thread>;
}

const samePeer = (a: Peer, b: Peer) => a.nid === b.nid && a.pid === b.pid && a.ep === b.ep && a.chan === b.chan;
/** Whether `serial` is the incarnation a channel's peer had (or the peer's is not known yet: an open of ours in flight). */
const sameIncarnation = (c: KChannel, serial: number) => c.peerSerial === 0 || c.peerSerial === serial;

export class UnetKernel {
  private readonly endpoints = new Map<number, KEndpoint>();
  private nextEp = 1;
  private nextTag = 1;
  private nextReq = 1;
  /** Process incarnations on this node: given at a process's first endpoint, never reused (pids are). */
  private readonly serials = new Incarnations();

  constructor(private readonly k: Kernel) {}

  /** The process's incarnation on this node (given at its first endpoint). */
  private serialOf(p: Process): number {
    return this.serials.of(p);
  }

  private get nic() {
    return this.k.node.nic.unet;
  }

  private get v() {
    return this.k.profile.values;
  }

  /** Boot: the NIC's upcall/control interrupt, and its steps in the trace. */
  attach(vector: number): void {
    const k = this.k;
    this.nic.irq = { core: 0, vector };
    const record = (path: TracePath, ep: number, what: string, detail: string, dur: number, start: number) => {
      const owner = this.endpoints.get(ep)?.owner.pid ?? 0;
      // The NIC has no core; its steps are filed under core 0 (the one its interrupts go to),
      // at the time they began (recorded when they end, so a record may precede the one before it).
      k.host.record({ t: start, node: k.nid, core: 0, pid: owner, path, step: what, detail: ep === 0 ? detail : `ep ${ep}: ${detail}`, dur });
    };
    this.nic.onStep = (ep, what, detail, dur, start) => {
      if (!k.host.wantsRecords) return k.host.countStep();
      record('unet-nic', ep, what, detail, dur, start);
    };
  }

  /** A process's endpoint by its handle: another process's endpoints are not even named. */
  private byHandle(p: Process, handle: number): KEndpoint | undefined {
    for (const e of this.endpoints.values()) if (e.owner === p && e.handle === handle) return e;
    return undefined;
  }

  /** The caller's endpoint `handle`, or EBADF. */
  owned(p: Process, handle: number): KEndpoint {
    const ep = this.byHandle(p, handle);
    if (ep === undefined) fail('EBADF', `no U-Net endpoint ${handle} in this process`);
    return ep;
  }

  endpointsOf(p: Process): KEndpoint[] {
    return [...this.endpoints.values()].filter((e) => e.owner === p);
  }

  all(): readonly KEndpoint[] {
    return [...this.endpoints.values()];
  }

  *create(p: Process, va: number, len: number, entries: number, flags: number): KPath<number> {
    if (flags & ~(UNET_CREATE_FLAGS.UPCALL | UNET_CREATE_FLAGS.USER_UPCALL)) fail('EINVAL', `unknown flags 0x${flags.toString(16)}`);
    if (!(entries >= 1 && entries <= UNET_LIMITS.MAX_ENTRIES)) fail('EINVAL', `entries must be 1..${UNET_LIMITS.MAX_ENTRIES}`);
    if (va % PAGE !== 0 || len === 0 || len % PAGE !== 0) fail('EINVAL', 'segment must be whole pages, page aligned');
    if (len < unetQueues(entries).buffers) fail('EINVAL', `a segment with ${entries} slots per queue needs at least ${unetQueues(entries).buffers} bytes`);
    const r = p.aspace.find(va);
    if (r === undefined || va + len > r.start + r.size) fail('EFAULT', 'segment must lie inside one mapping (physically contiguous)');
    if (!r.writable) fail('EACCES', 'segment must be writable');
    if (this.endpoints.size >= UNET_LIMITS.MAX_ENDPOINTS) fail('ENOSPC', `the NIC has ${UNET_LIMITS.MAX_ENDPOINTS} endpoints`);
    const held = [...this.endpoints.values()].filter((e) => e.owner.info.uid === p.info.uid).length;
    if (held >= UNET_ENDPOINTS_PER_UID) fail('EMFILE', `uid ${p.info.uid} holds ${held} endpoints on this node (the share of one user)`);
    const segPa = r.pa + (va - r.start);
    this.serialOf(p);
    const id = this.nextEp++;
    const mine = this.endpointsOf(p);
    const handle = mine.length === 0 ? 1 : Math.max(...mine.map((e) => e.handle)) + 1;
    const userUpcall = (flags & UNET_CREATE_FLAGS.USER_UPCALL) !== 0;
    const upcall = userUpcall || (flags & UNET_CREATE_FLAGS.UPCALL) !== 0;
    const pin = Pin.of(this.k.phys, [{ pa: segPa, len, base: r.extent.base }]);
    this.endpoints.set(id, { id, handle, owner: p, va, len, segPa, entries, upcall, userUpcall, pin, channels: new Map(), waiters: new Set() });
    yield step('unet', 'create', this.v['kernel.mapPageCycles'] * (len / PAGE), `endpoint ${handle} (nic ${id}): ${len} B at 0x${va.toString(16)} phys 0x${segPa.toString(16)}, ${entries} slots`);
    this.nic.createEndpoint({ id, segPa, segLen: len, entries, upcall, owner: p.pid });
    return handle;
  }

  *destroy(cpu: Cpu, ep: KEndpoint): KPath {
    yield step('unet', 'destroy', this.v['kernel.syscallWorkCycles'], `endpoint ${ep.id}`);
    this.drop(ep);
    for (const t of ep.waiters) yield* this.k.wake(t, -ERRNO.EBADF, cpu);
    for (const c of ep.channels.values()) if (c.waiter) yield* this.k.wake(c.waiter, -ERRNO.EBADF, cpu);
  }

  /** The NIC stops at once; then the pin goes (so no DMA reaches frames handed on). The peers hear that its channels are gone. */
  private drop(ep: KEndpoint): void {
    for (const [chan, c] of ep.channels) this.notifyClosed(ep, chan, c);
    this.nic.destroyEndpoint(ep.id);
    ep.pin.release();
    this.endpoints.delete(ep.id);
  }

  /** A process ended: its endpoints go (threads are dead, nobody to wake). */
  forget(p: Process): void {
    for (const ep of this.endpointsOf(p)) this.drop(ep);
  }

  private newTag(): number {
    for (;;) {
      const t = this.nextTag;
      this.nextTag = this.nextTag >= 0x7fffffff ? 1 : this.nextTag + 1;
      if (!this.nic.tagInUse(t)) return t;
    }
  }

  private program(ep: KEndpoint, chan: number, c: KChannel): void {
    if (c.txTag !== null) this.nic.setChannel(ep.id, chan, { peerNode: c.peer.nid, txTag: c.txTag, rxTag: c.rxTag });
  }

  *open(t: Thread, ep: KEndpoint, chan: number, peer: Peer): KPath<number> {
    if (!(chan >= 0 && chan < UNET_LIMITS.MAX_CHANNELS) || !(peer.chan >= 0 && peer.chan < UNET_LIMITS.MAX_CHANNELS)) fail('EINVAL', `channels are 0..${UNET_LIMITS.MAX_CHANNELS - 1}`);
    if (!(peer.nid >= 0 && peer.nid < this.k.host.nodeCount)) fail('EHOSTUNREACH', `no node ${peer.nid}`);
    let existing = ep.channels.get(chan);
    if (existing?.peerGone === true) {
      // A channel only the peer opened, and has since closed: our open finds it as the peer left it (closed: its
      // sends come back BAD_CHANNEL), rather than ECONNREFUSED from a peer that has gone.
      if (!existing.ownerOpened && samePeer(existing.peer, peer)) {
        existing.ownerOpened = true;
        return 0;
      }
      // Otherwise our own end, which the owner may open afresh, to that peer or another.
      ep.channels.delete(chan);
      existing = undefined;
    }
    if (existing !== undefined) {
      if (!samePeer(existing.peer, peer)) fail('EBUSY', `channel ${chan} is open to another peer`);
      if (existing.txTag !== null) {
        existing.ownerOpened = true;
        return 0;
      }
      fail('EBUSY', `channel ${chan} is being opened`);
    }
    yield step('unet', 'open', this.v['kernel.syscallWorkCycles'], `endpoint ${ep.id} chan ${chan} -> node ${peer.nid} pid ${peer.pid} ep ${peer.ep} chan ${peer.chan}`);
    const c: KChannel = { peer, peerSerial: 0, rxTag: this.newTag(), txTag: null, waiter: null, req: this.nextReq++, ownerOpened: true };
    if (samePeer(peer, { nid: this.k.nid, pid: ep.owner.pid, ep: ep.handle, chan })) {
      // A channel to itself (loopback): what it sends, it receives, on the one tag.
      c.txTag = c.rxTag;
      c.peerSerial = this.serialOf(ep.owner);
      ep.channels.set(chan, c);
      this.program(ep, chan, c);
      return 0;
    }
    if (peer.nid === this.k.nid) {
      const theirs = this.accept(ep.owner.info, { nid: this.k.nid, pid: ep.owner.pid, ep: ep.handle, chan }, this.serialOf(ep.owner), peer, c.rxTag);
      if (typeof theirs === 'string') fail(theirs, 'peer refused');
      c.txTag = theirs.tag;
      c.peerSerial = theirs.serial;
      ep.channels.set(chan, c);
      this.program(ep, chan, c);
      return 0;
    }
    ep.channels.set(chan, c);
    c.waiter = t;
    this.nic.sendControl(peer.nid, encodeControl({ type: UNET_CTL.OPEN, req: c.req, srcPid: ep.owner.pid, srcUid: ep.owner.info.uid, srcEp: ep.handle, srcChan: chan, dstPid: peer.pid, dstEp: peer.ep, dstChan: peer.chan, srcSerial: this.serialOf(ep.owner), dstSerial: 0, tag: c.rxTag, errno: 0 }));
    yield step('unet', 'open-wait', this.v['kernel.syscallWorkCycles'], `OPEN sent to node ${peer.nid}`);
    const r = (yield* block()) as number;
    c.waiter = null;
    if (r < 0) {
      if (ep.channels.get(chan) === c) ep.channels.delete(chan);
      return r;
    }
    return 0;
  }

  /**
   * The peer end of an open, on the peer's node: checks the process, owner
   * and user, then opens (or re-tags) its channel. Returns our receive tag and
   * our process's incarnation, or an errno name. Only the very process that
   * held the other end (its incarnation, not merely its pid) re-tags it.
   */
  private accept(requester: { readonly uid: number }, from: Peer, fromSerial: number, to: Peer, theirTag: number): { readonly tag: number; readonly serial: number } | 'ECONNREFUSED' | 'EBUSY' | 'EINVAL' {
    const p = this.k.processes.get(to.pid);
    // Another user's process gets the answer of no process at all: unet_open is no oracle of who runs where.
    if (p === undefined || !p.alive || p.info.uid !== requester.uid) return 'ECONNREFUSED';
    const ep = this.byHandle(p, to.ep);
    if (ep === undefined) return 'ECONNREFUSED';
    if (!(to.chan >= 0 && to.chan < UNET_LIMITS.MAX_CHANNELS)) return 'EINVAL';
    const serial = this.serialOf(p);
    const c = ep.channels.get(to.chan);
    if (c !== undefined) {
      // Another peer, or a later process on the same node with the same pid (a new job's rank where an exited one
      // was): not the end this channel was opened to, which stays closed until our own process reopens it.
      if (!samePeer(c.peer, from) || !sameIncarnation(c, fromSerial)) return 'EBUSY';
      // Opened from both ends at once, or reopened after a close by the same process: our tag stays, theirs is new.
      c.txTag = theirTag;
      c.peerSerial = fromSerial;
      c.peerGone = false;
      this.program(ep, to.chan, c);
      return { tag: c.rxTag, serial };
    }
    const n: KChannel = { peer: from, peerSerial: fromSerial, rxTag: this.newTag(), txTag: theirTag, waiter: null, req: 0, ownerOpened: false };
    ep.channels.set(to.chan, n);
    this.program(ep, to.chan, n);
    return { tag: n.rxTag, serial };
  }

  *close(ep: KEndpoint, chan: number): KPath<number> {
    const c = ep.channels.get(chan);
    if (c === undefined) fail('EINVAL', `channel ${chan} is not open`);
    if (c.waiter !== null) fail('EBUSY', `channel ${chan} is being opened`);
    this.notifyClosed(ep, chan, c);
    ep.channels.delete(chan);
    this.nic.clearChannel(ep.id, chan);
    yield step('unet', 'close', this.v['kernel.syscallWorkCycles'], `endpoint ${ep.id} chan ${chan}`);
    return 0;
  }

  /** Tells the peer of an open channel that our end (receive tag) is gone: directly on this node, by CLOSE to another. */
  private notifyClosed(ep: KEndpoint, chan: number, c: KChannel): void {
    if (c.peerGone === true) return;
    const from: Peer = { nid: this.k.nid, pid: ep.owner.pid, ep: ep.handle, chan };
    // An open still unanswered (no peer tag yet) may have been accepted already: the CLOSE, which follows the OPEN
    // on the same path, closes that end too, so the peer's sends come back BAD_CHANNEL instead of vanishing.
    if (c.txTag === null && c.peer.nid === this.k.nid) return;
    const serial = this.serialOf(ep.owner);
    if (c.peer.nid === this.k.nid) {
      this.peerClosed(from, serial, c.peer, c.rxTag);
      return;
    }
    this.nic.sendControl(c.peer.nid, encodeControl({ type: UNET_CTL.CLOSE, req: 0, srcPid: from.pid, srcUid: ep.owner.info.uid, srcEp: from.ep, srcChan: chan, dstPid: c.peer.pid, dstEp: c.peer.ep, dstChan: c.peer.chan, srcSerial: serial, dstSerial: 0, tag: c.rxTag, errno: 0 }));
  }

  /**
   * The peer `from` closed its end of our channel `to`, whose messages we
   * stamp with `tag`: our end goes too (unless it has since been re-opened
   * to a new incarnation: then the tag differs). Returns the thread that was
   * waiting in unet_open on it, if one was.
   */
  private peerClosed(from: Peer, fromSerial: number, to: Peer, tag: number): Thread | null {
    const p = this.k.processes.get(to.pid);
    const ep = p === undefined ? undefined : this.byHandle(p, to.ep);
    const c = ep?.channels.get(to.chan);
    if (ep === undefined || c === undefined || !samePeer(c.peer, from) || !sameIncarnation(c, fromSerial) || c.txTag !== tag) return null;
    this.nic.clearChannel(ep.id, to.chan);
    if (c.waiter !== null) {
      // Our open of it was in flight: it fails, and the channel is free again.
      ep.channels.delete(to.chan);
      return c.waiter;
    }
    // Our end stays, closed (its sends come back BAD_CHANNEL, nothing arrives on it), until our process closes or
    // reopens it. Were it deleted, another process of the uid could open the same channel index at once, and the
    // owner, who believes what arrives on a channel it opened, would take that process for the peer that left.
    // A channel only the peer opened stays too: our own unet_open of it, which may come after the peer has gone
    // (a rank that exits while a slower one is still opening), finds it as the peer left it.
    c.txTag = null;
    c.peerGone = true;
    return null;
  }

  private recvNonEmpty(ep: KEndpoint): boolean {
    const m = this.k.node.memory;
    return m.readU32(ep.segPa + UNET_HDR.RECV_TAIL) !== m.readU32(ep.segPa + UNET_HDR.RECV_HEAD);
  }

  *wait(t: Thread, ep: KEndpoint, timeoutNs: number): KPath<number> {
    if (!ep.upcall) fail('EINVAL', 'endpoint was created without UNET_UPCALL');
    const deadline = timeoutNs < 0 ? Infinity : this.k.engine.now + timeoutNs * 1000;
    yield step('unet', 'wait', this.v['kernel.syscallWorkCycles'], `endpoint ${ep.id}`);
    while (!this.recvNonEmpty(ep)) {
      if (timeoutNs === 0) fail('EAGAIN', 'receive queue empty');
      if (this.k.engine.now >= deadline) fail('ETIMEDOUT', 'no message in time');
      ep.waiters.add(t);
      if (deadline !== Infinity) {
        this.k.sleepUntil(t, deadline, 'sleep', function* (k, cpu) {
          ep.waiters.delete(t);
          yield* k.wake(t, 'timeout', cpu);
        });
      }
      const r = yield* block();
      ep.waiters.delete(t);
      if (typeof r === 'number' && r < 0) return r;
    }
    return 0;
  }

  /** The NIC's interrupt: control messages from other kernels, and upcalls. */
  *interrupt(cpu: Cpu): KPath {
    for (const m of this.nic.takeControl()) yield* this.control(m, cpu);
    for (const id of this.nic.takeUpcalls()) {
      const ep = this.endpoints.get(id);
      if (ep === undefined) continue;
      yield step('unet', 'upcall', this.v['kernel.syscallWorkCycles'], `endpoint ${id}: ${ep.waiters.size} waiter(s)`);
      for (const t of [...ep.waiters]) yield* this.k.wake(t, 0, cpu);
      ep.waiters.clear();
      if (ep.userUpcall) yield* deliverMessageUpcall(cpu, ep.owner, ep.handle, this.v['kernel.trapExitCycles']);
    }
  }

  private *control(raw: UnetControl, cpu: Cpu): KPath {
    const m = decodeControl(raw.bytes);
    if (m === null) {
      yield step('unet', 'control-drop', this.v['kernel.syscallWorkCycles'], `from node ${raw.src}: not a control message`);
      return;
    }
    if (raw.undeliverable) {
      // Our own message came back: the open fails.
      if (m.type === UNET_CTL.OPEN) yield* this.answer(m.srcPid, m.srcEp, m.srcChan, m.req, -ERRNO.EHOSTUNREACH, 0, 0, cpu);
      return;
    }
    yield step('unet', 'control', this.v['kernel.syscallWorkCycles'], `${UNET_CTL_NAMES[m.type]} from node ${raw.src}`);
    if (m.type === UNET_CTL.CLOSE) {
      const waiter = this.peerClosed({ nid: raw.src, pid: m.srcPid, ep: m.srcEp, chan: m.srcChan }, m.srcSerial, { nid: this.k.nid, pid: m.dstPid, ep: m.dstEp, chan: m.dstChan }, m.tag);
      if (waiter !== null) yield* this.k.wake(waiter, -ERRNO.ECONNREFUSED, cpu);
      return;
    }
    if (m.type === UNET_CTL.OPEN) {
      const r = this.accept({ uid: m.srcUid }, { nid: raw.src, pid: m.srcPid, ep: m.srcEp, chan: m.srcChan }, m.srcSerial, { nid: this.k.nid, pid: m.dstPid, ep: m.dstEp, chan: m.dstChan }, m.tag);
      const reply: UnetControlMsg = typeof r === 'object' ? { ...m, type: UNET_CTL.ACCEPT, tag: r.tag, dstSerial: r.serial, errno: 0 } : { ...m, type: UNET_CTL.REFUSE, tag: 0, errno: ERRNO[r] };
      this.nic.sendControl(raw.src, encodeControl(reply));
      return;
    }
    yield* this.answer(m.srcPid, m.srcEp, m.srcChan, m.req, m.type === UNET_CTL.ACCEPT ? 0 : -m.errno, m.tag, m.dstSerial, cpu);
  }

  /** The answer to one of our opens: program the channel and wake the opener. */
  private *answer(pid: number, handle: number, chan: number, req: number, result: number, tag: number, serial: number, cpu: Cpu): KPath {
    const p = this.k.processes.get(pid);
    const ep = p === undefined ? undefined : this.byHandle(p, handle);
    const c = ep?.channels.get(chan);
    if (ep === undefined || c === undefined || c.req !== req) return;
    if (result === 0) {
      c.txTag = tag;
      c.peerSerial = serial;
      this.program(ep, chan, c);
    } else if (c.txTag === null) ep.channels.delete(chan);
    if (c.waiter !== null) yield* this.k.wake(c.waiter, result, cpu);
  }
}
